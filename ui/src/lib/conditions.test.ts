import { describe, expect, it } from "vitest";
import type { RuleView } from "../bindings";
import { CHOICES, KINDS, inTryOrder, kindsOf, parseTokens, without } from "./conditions";
import { en, zhCN } from "./i18n.svelte";

const rule = (pattern: string, when: RuleView["when"] = null): RuleView => ({
  pattern, when, route: { strategy: "ordered", targets: [{ backend: "ollama" }], fallbacks: [] },
});

describe("conditions", () => {
  it("reads a prompt size as a whole number of tokens, 1 or more", () => {
    expect(parseTokens("32000")).toBe(32000);
    expect(parseTokens(" 32,000 ")).toBe(32000);
    expect(parseTokens("32 000")).toBe(32000);
    for (const bad of ["", "0", "-1", "1.5", "1e5", "abc", "12k", "99999999999999999999"]) expect(parseTokens(bad), bad).toBeNull();
  });

  it("takes a condition out, and leaves no `when` once none is left", () => {
    expect(without({ images: true, thinking: false }, "images")).toEqual({ thinking: false });
    expect(without({ images: true }, "images")).toBeNull();
    expect(kindsOf({ agent: "main", images: false, min_prompt_tokens: null })).toEqual(["images", "agent"]);
  });

  it("lists conditional rules first, each group in file order", () => {
    const rules = [rule("*haiku*"), rule("*", { images: true }), rule("*sonnet*"), rule("*opus*", { thinking: true })];
    expect(inTryOrder(rules).map((r) => r.pattern)).toEqual(["*", "*opus*", "*haiku*", "*sonnet*"]);
  });

  it("offers both ways of every condition, in words in both languages", () => {
    for (const kind of KINDS) expect(CHOICES.some((c) => c.kind === kind), kind).toBe(true);
    for (const c of CHOICES) {
      expect(en[c.label]).toBeTruthy();
      expect(zhCN[c.label]).not.toBe(en[c.label]);
    }
  });
});
