import { describe, expect, it } from "vitest";
import { diffLines, diffView, headerChanges, jsonChanges, topLevel, type DiffOp } from "./jsondiff";

describe("jsonChanges", () => {
  it("names the changed model and the fields a translation added and removed", () => {
    const client = { model: "claude-sonnet-4-5", max_tokens: 100, messages: [{ role: "user", content: "hi" }], stream: true };
    const upstream = { model: "qwen2.5-coder:7b", messages: [{ role: "user", content: "hi" }], stream: true, options: { num_predict: 100 } };
    expect(jsonChanges(client, upstream)).toEqual({
      changes: [
        { path: "model", kind: "changed", before: '"claude-sonnet-4-5"', after: '"qwen2.5-coder:7b"' },
        { path: "max_tokens", kind: "removed", before: "100", after: null },
        { path: "options", kind: "added", before: null, after: '{"num_predict":100}' },
      ],
      more: 0,
    });
    expect(topLevel(client, upstream)).toEqual({ changed: ["model"], added: ["options"], removed: ["max_tokens"], same: ["messages", "stream"] });
  });
  it("goes down into shared objects and arrays, and takes a re-shaped object as one change", () => {
    const a = { messages: [{ role: "user", content: "a" }, { role: "assistant", content: "b" }], tools: [{ name: "Bash", input_schema: {} }], "odd key": 1 };
    const b = { messages: [{ role: "user", content: "A" }], tools: [{ type: "function", function: { name: "Bash" } }], "odd key": 2 };
    expect(jsonChanges(a, b).changes.map((c) => [c.path, c.kind])).toEqual([
      ["messages[0].content", "changed"],
      ["messages[1]", "removed"],
      ["tools[0]", "changed"],
      ['["odd key"]', "changed"],
    ]);
    expect(jsonChanges(a, a)).toEqual({ changes: [], more: 0 });
    expect(jsonChanges([1], { x: 1 }).changes).toEqual([{ path: "(the whole body)", kind: "changed", before: "[1]", after: '{"x":1}' }]);
  });
  it("lists at most `limit` changes and counts the rest; values are shortened", () => {
    const a = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]));
    const b = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, -i - 1]));
    expect(jsonChanges(a, b, 4)).toMatchObject({ more: 6 });
    const long = jsonChanges({ t: "x".repeat(1000) }, { t: "y" }).changes[0].before!;
    expect(long.length).toBe(160);
    expect(long.endsWith("…")).toBe(true);
  });
});

/** The two texts a diff compares, read back from its steps. */
function sides(ops: DiffOp[]) {
  return { a: ops.filter((o) => o.op !== "+").map((o) => o.text), b: ops.filter((o) => o.op !== "-").map((o) => o.text) };
}

describe("diffLines", () => {
  it("marks the changed line of a swapped model and keeps the rest", () => {
    const a = ["{", '  "model": "claude-sonnet-4-5",', '  "stream": true', "}"];
    const b = ["{", '  "model": "qwen2.5-coder:7b",', '  "stream": true', "}"];
    expect(diffLines(a, b)).toEqual([
      { op: " ", text: "{" },
      { op: "-", text: '  "model": "claude-sonnet-4-5",' },
      { op: "+", text: '  "model": "qwen2.5-coder:7b",' },
      { op: " ", text: '  "stream": true' },
      { op: " ", text: "}" },
    ]);
  });
  it("reads back both texts with the fewest edits, on many random pairs", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 300; round++) {
      const a = Array.from({ length: rand(12) }, () => "abcd"[rand(4)]);
      const b = Array.from({ length: rand(12) }, () => "abcd"[rand(4)]);
      const ops = diffLines(a, b)!;
      expect(sides(ops)).toEqual({ a, b });
      // Fewest edits: len(a) + len(b) - 2 * LCS.
      const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
      for (let i = a.length - 1; i >= 0; i--)
        for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      expect(ops.filter((o) => o.op !== " ")).toHaveLength(a.length + b.length - 2 * lcs[0][0]);
    }
  });
  it("gives up on texts that differ in too many lines", () => {
    const a = Array.from({ length: 50 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 50 }, (_, i) => `b${i}`);
    expect(diffLines(a, b, 20)).toBeNull();
    expect(diffLines(a, b, 100)).toHaveLength(100);
    expect(diffLines([], [])).toEqual([]);
  });
  it("folds the unchanged stretches between changes", () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i}`);
    const b = a.map((l, i) => (i === 10 ? "changed" : l));
    const view = diffView(diffLines(a, b)!, (n) => `${n} hidden`, 2);
    expect(view.map((l) => l.text)).toEqual(["8 hidden", "l8", "l9", "l10", "changed", "l11", "l12", "7 hidden"]);
    expect(view.filter((l) => l.cls === "del").map((l) => l.gutter)).toEqual(["-"]);
    expect(view.filter((l) => l.cls === "add").map((l) => l.gutter)).toEqual(["+"]);
  });
});

describe("headerChanges", () => {
  it("compares headers without case and leaves equal ones out", () => {
    const a = [{ name: "X-Api-Key", value: "[redacted]" }, { name: "anthropic-beta", value: "a" }, { name: "user-agent", value: "cli" }];
    const b = [{ name: "x-api-key", value: "[redacted]" }, { name: "anthropic-beta", value: "b" }, { name: "content-length", value: "9" }];
    expect(headerChanges(a, b)).toEqual([
      { path: "anthropic-beta", kind: "changed", before: "a", after: "b" },
      { path: "user-agent", kind: "removed", before: "cli", after: null },
      { path: "content-length", kind: "added", before: null, after: "9" },
    ]);
  });
});
