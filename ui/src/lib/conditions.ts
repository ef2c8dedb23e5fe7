// A conditional rule's `when` as the mapping screen edits it: one choice per condition and
// polarity, in the words people read ("has images", "thinking off").
import type { RuleView, When } from "../bindings";
import type { MessageKey } from "./i18n-en";

export type ConditionKind = "images" | "server_tools" | "thinking" | "min_prompt_tokens" | "agent";

/** In the order the conditions are shown (the engine's order of the `When` fields). */
export const KINDS: readonly ConditionKind[] = ["images", "server_tools", "thinking", "min_prompt_tokens", "agent"];

/** A prompt size to start from when the condition is added; the user edits it at once. */
export const DEFAULT_MIN_TOKENS = 32000;

export interface Choice {
  /** The `<option>` value: kind and value, e.g. `images:false`. */
  id: string;
  kind: ConditionKind;
  set: When;
  label: MessageKey;
}

export const CHOICES: readonly Choice[] = [
  { id: "images:true", kind: "images", set: { images: true }, label: "mapping.when.images" },
  { id: "images:false", kind: "images", set: { images: false }, label: "mapping.when.noImages" },
  { id: "server_tools:true", kind: "server_tools", set: { server_tools: true }, label: "mapping.when.serverTools" },
  { id: "server_tools:false", kind: "server_tools", set: { server_tools: false }, label: "mapping.when.noServerTools" },
  { id: "thinking:true", kind: "thinking", set: { thinking: true }, label: "mapping.when.thinking" },
  { id: "thinking:false", kind: "thinking", set: { thinking: false }, label: "mapping.when.noThinking" },
  { id: "min_prompt_tokens", kind: "min_prompt_tokens", set: { min_prompt_tokens: DEFAULT_MIN_TOKENS }, label: "mapping.when.minTokens" },
  { id: "agent:subagent", kind: "agent", set: { agent: "subagent" }, label: "mapping.when.subagent" },
  { id: "agent:main", kind: "agent", set: { agent: "main" }, label: "mapping.when.main" },
];

export const choice = (id: string): Choice | undefined => CHOICES.find((c) => c.id === id);

/** The choice a set condition currently shows (not for `min_prompt_tokens`, which has a number). */
export function chosen(when: When, kind: ConditionKind): string {
  return `${kind}:${String(when[kind])}`;
}

/** The conditions a rule has, in display order. */
export function kindsOf(when: When | null | undefined): ConditionKind[] {
  return when ? KINDS.filter((k) => when[k] != null) : [];
}

/** A rule with conditions is tried before every rule by name (`when = {}` included). */
export const isConditional = (r: RuleView): boolean => r.when != null;

/** `when` with `kind` taken out; null once nothing is left, so the rule is a name rule again. */
export function without(when: When, kind: ConditionKind): When | null {
  const rest: When = { ...when };
  delete rest[kind];
  return kindsOf(rest).length ? rest : null;
}

/** A prompt size as typed: a whole number of tokens, 1 or more ("32000", "32,000", "32 000"). */
export function parseTokens(text: string): number | null {
  const compact = text.trim().replace(/[\s,_]/g, "");
  if (!/^\d+$/.test(compact)) return null;
  const n = Number(compact);
  return Number.isSafeInteger(n) && n >= 1 ? n : null;
}

/** Rules in the order the engine tries them: conditional rules first, each group in file order.
 *  Listing them so makes the numbers on screen the order requests meet them. */
export function inTryOrder(rules: RuleView[]): RuleView[] {
  return [...rules.filter(isConditional), ...rules.filter((r) => !isConditional(r))];
}
