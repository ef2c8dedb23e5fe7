import type { Theme } from "../bindings";

const DARK_QUERY = "(prefers-color-scheme: dark)";
let stopFollowing: (() => void) | null = null;

/** Applies the Settings choice to <html data-theme>. "system" follows the desktop's setting,
 *  live, so switching the OS to dark turns the open window dark too. */
export function applyTheme(theme: Theme, root: HTMLElement = document.documentElement): void {
  stopFollowing?.();
  stopFollowing = null;
  if (theme !== "system") {
    root.dataset.theme = theme;
    return;
  }
  const media = typeof matchMedia === "function" ? matchMedia(DARK_QUERY) : null;
  const set = () => (root.dataset.theme = media?.matches ? "dark" : "light");
  set();
  if (media) {
    media.addEventListener("change", set);
    stopFollowing = () => media.removeEventListener("change", set);
  }
}
