import { t } from "./i18n.svelte";

/** The engine names the rule in English (`rule 2: * when images`, `default route`); the frame
 *  is put in the viewer's language, the pattern and the config's condition words stay as written.
 *  Reactive in templates, like `t`. */
export function ruleWords(rule: string): string {
  if (rule === "default route") return t("usage.rule.default");
  const m = /^rule (\d+): (\S+)(?: when (.+))?$/.exec(rule);
  if (!m) return rule;
  return m[3] ? t("usage.rule.when", { n: m[1], pattern: m[2], when: m[3] }) : t("usage.rule.n", { n: m[1], pattern: m[2] });
}
