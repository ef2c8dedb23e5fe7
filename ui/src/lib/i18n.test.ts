import { describe, expect, it } from "vitest";
import { en, zhCN, detectLang, translate, translatePlural } from "./i18n.svelte";

const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe("i18n", () => {
  it("has the same keys in English and Simplified Chinese", () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
  });
  it("keeps the same placeholders in every translation", () => {
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(zhCN[key]), key).toEqual(placeholders(en[key]));
    }
  });
  it("has no untranslated Chinese strings except names", () => {
    const same = (Object.keys(en) as (keyof typeof en)[]).filter((k) => en[k] === zhCN[k]);
    // Product and protocol names stay as they are.
    expect(same.sort()).toEqual(["app.name", "backends.kind.anthropic", "backends.kind.openai_chat", "overview.claude"].sort());
  });
  it("detects the language from the webview's preferences", () => {
    expect(detectLang(["zh-CN", "en"])).toBe("zh-CN");
    expect(detectLang(["zh-Hans-CN"])).toBe("zh-CN");
    expect(detectLang(["fr-FR", "en-GB"])).toBe("en");
    expect(detectLang([])).toBe("en");
  });
  it("fills placeholders and leaves unknown ones visible", () => {
    expect(translate("en", "backends.testOk", { ms: 42 })).toBe("Reachable in 42 ms");
    expect(translate("zh-CN", "backends.testOk", { ms: 42 })).toBe("可访问，用时 42 毫秒");
    expect(translate("en", "backends.testOk")).toBe("Reachable in {ms} ms");
  });
  it("says 1 request but 2 requests, in both languages", () => {
    expect(translatePlural("en", "usage.requestCount", 1)).toBe("1 request");
    expect(translatePlural("en", "usage.requestCount", 2)).toBe("2 requests");
    expect(translatePlural("en", "usage.requestCount", 0)).toBe("0 requests");
    expect(translatePlural("zh-CN", "usage.requestCount", 1)).toBe("1 个请求");
    expect(translatePlural("zh-CN", "usage.requestCount", 2)).toBe("2 个请求");
    // The form follows the count even when the figure is shown abbreviated.
    expect(translatePlural("en", "usage.tokenCount", 1500, { n: "1.5k" })).toBe("1.5k tokens");
    expect(translatePlural("en", "usage.tokenCount", 1)).toBe("1 token");
  });
  it("has both plural forms for every plural key", () => {
    for (const key of Object.keys(en)) {
      if (key.endsWith(".one")) expect(Object.keys(en), key).toContain(key.replace(/\.one$/, ".other"));
    }
  });
});
