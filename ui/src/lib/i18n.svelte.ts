import { en, type MessageKey } from "./i18n-en";
import { zhCN } from "./i18n-zh";

export type Lang = "en" | "zh-CN";
const dictionaries: Record<Lang, Record<MessageKey, string>> = { en, "zh-CN": zhCN };

/** Picks a supported language from the webview's preferences (zh, zh-CN, zh-Hans… → zh-CN). */
export function detectLang(preferred: readonly string[]): Lang {
  for (const tag of preferred) {
    const lower = tag.toLowerCase();
    if (lower.startsWith("zh")) return "zh-CN";
    if (lower.startsWith("en")) return "en";
  }
  return "en";
}

export const locale = $state<{ lang: Lang }>({
  lang: detectLang(typeof navigator === "undefined" ? [] : navigator.languages ?? []),
});

export function setLang(lang: Lang) {
  locale.lang = lang;
  if (typeof document !== "undefined") document.documentElement.lang = lang;
}

/** Looks a message up and fills `{name}` placeholders. Unknown placeholders stay visible. */
export function translate(lang: Lang, key: MessageKey, params?: Record<string, string | number>): string {
  const template = dictionaries[lang][key] ?? en[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** Reactive in Svelte templates: reading `locale.lang` subscribes the caller. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return translate(locale.lang, key, params);
}

export { en, zhCN, type MessageKey };
