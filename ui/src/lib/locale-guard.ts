// Under LANG=C (common on servers and minimal desktops) WebKitGTK reports navigator.language
// as "C", which Intl rejects with a RangeError; uPlot formats numbers with navigator.language
// at import time, so the whole app would fail to start. Replace invalid tags before anything
// else is evaluated (this module is main.ts's first import).
function isValidTag(tag: string | undefined): tag is string {
  if (!tag) return false;
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

export function sanitizeNavigatorLocale(nav: Navigator = navigator): void {
  const languages = (nav.languages ?? []).filter(isValidTag);
  if (!isValidTag(nav.language)) {
    Object.defineProperty(nav, "language", { value: languages[0] ?? "en-US", configurable: true });
  }
  if (languages.length !== (nav.languages ?? []).length) {
    Object.defineProperty(nav, "languages", { value: languages.length ? languages : ["en-US"], configurable: true });
  }
}

if (typeof navigator !== "undefined") sanitizeNavigatorLocale();
