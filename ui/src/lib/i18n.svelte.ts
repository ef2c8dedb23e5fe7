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

/** The keys that come in plural forms: `<base>.one` and `<base>.other`, in every language
 *  (Chinese uses the same text for both). */
export type PluralKey = { [K in MessageKey]: K extends `${infer B}.one` ? B : never }[MessageKey];

/** The message for a count `n` (English: "1 request", "2 requests"). `{n}` is the count, unless
 *  `params` gives its own display for it (such as "34.5k"). */
export function translatePlural(lang: Lang, key: PluralKey, n: number, params?: Record<string, string | number>): string {
  const form = new Intl.PluralRules(lang).select(n) === "one" ? "one" : "other";
  return translate(lang, `${key}.${form}` as MessageKey, { n, ...params });
}

/** Reactive in Svelte templates: reading `locale.lang` subscribes the caller. */
export function t(key: MessageKey, params?: Record<string, string | number>): string {
  return translate(locale.lang, key, params);
}

/** `translatePlural` in the current language (reactive like `t`). */
export function tn(key: PluralKey, n: number, params?: Record<string, string | number>): string {
  return translatePlural(locale.lang, key, n, params);
}

export { en, zhCN, type MessageKey };
