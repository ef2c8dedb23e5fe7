import { describe, expect, it } from "vitest";
import { bodyLines, findMatches, prettyJson, rowOf, segments, timelineLines, wrapRows, type ViewLine } from "./textview";

const lines = (...texts: string[]): ViewLine[] => texts.map((text) => ({ text }));

describe("prettyJson", () => {
  it("re-indents JSON and keeps every value as written", () => {
    const text = '{"b":1.50,"a":[1e3,-0,"x\\"y, \\\\",{}],"c":{"k":[]},"u":"\\u00e9 é","n":null,"t":true}';
    expect(prettyJson(text)).toBe(
      [
        "{",
        '  "b": 1.50,',
        '  "a": [',
        "    1e3,",
        "    -0,",
        '    "x\\"y, \\\\",',
        "    {}",
        "  ],",
        '  "c": {',
        '    "k": []',
        "  },",
        '  "u": "\\u00e9 é",',
        '  "n": null,',
        '  "t": true',
        "}",
      ].join("\n"),
    );
  });
  it("reads what it wrote as the same value, for a nested body", () => {
    const value = { model: "m", messages: [{ role: "user", content: [{ type: "text", text: 'a "quoted", {braced} [text]: done' }] }], n: [1, 2, { x: {} }] };
    const pretty = prettyJson(JSON.stringify(value))!;
    expect(JSON.parse(pretty)).toEqual(value);
    expect(pretty.split("\n").length).toBeGreaterThan(10);
  });
  it("leaves text that is not a JSON object or array alone", () => {
    expect(prettyJson("")).toBeNull();
    expect(prettyJson("hello")).toBeNull();
    expect(prettyJson('"a string"')).toBeNull();
    expect(prettyJson("{not json")).toBeNull();
    expect(bodyLines("plain\ntext").lines).toEqual([{ text: "plain", gutter: "1" }, { text: "text", gutter: "2" }]);
    expect(bodyLines("").lines).toEqual([]);
  });
});

describe("timelineLines", () => {
  it("puts each chunk's arrival time on its first line and drops SSE's trailing blank lines", () => {
    const out = timelineLines([
      { at_ms: 3.25, data: "event: ping\ndata: {}\n\n" },
      { at_ms: 412.7, data: "event: a\ndata: 1\n\nevent: b\ndata: 2\n\n" },
      { at_ms: 1500, data: '{"done":true}\n' },
    ]);
    expect(out).toEqual([
      { text: "event: ping", gutter: "+3.3 ms", cls: "chunk" },
      { text: "data: {}" },
      { text: "event: a", gutter: "+413 ms", cls: "chunk" },
      { text: "data: 1" },
      { text: "" },
      { text: "event: b" },
      { text: "data: 2" },
      { text: '{"done":true}', gutter: "+1500 ms", cls: "chunk" },
    ]);
  });
});

describe("search", () => {
  it("finds every match, case-insensitively, in reading order, taking the query literally", () => {
    expect(findMatches(lines("Count count", "none", "a.count(x)"), "COUNT")).toEqual([
      { line: 0, start: 0, end: 5 },
      { line: 0, start: 6, end: 11 },
      { line: 2, start: 2, end: 7 },
    ]);
    expect(findMatches(lines("a.b", "axb"), ".")).toEqual([{ line: 0, start: 1, end: 2 }]);
    expect(findMatches(lines("abc"), "")).toEqual([]);
    expect(findMatches(lines("aaaa"), "a", 3)).toHaveLength(3);
  });
  it("splits a row where matches start and end, the current one apart", () => {
    const ls = lines("one two one");
    const all = findMatches(ls, "one");
    const row = { line: 0, from: 0, to: 11 };
    expect(segments(ls[0].text, row, all, [0, 1], 1)).toEqual([
      { text: "one", mark: 1 },
      { text: " two ", mark: 0 },
      { text: "one", mark: 2 },
    ]);
    // A match cut by a wrap is marked on both rows.
    expect(segments(ls[0].text, { line: 0, from: 0, to: 9 }, all, [0, 1], 0).at(-1)).toEqual({ text: "o", mark: 1 });
    expect(segments(ls[0].text, { line: 0, from: 9, to: 11 }, all, [0, 1], 0)).toEqual([{ text: "ne", mark: 1 }]);
    expect(segments("", { line: 0, from: 0, to: 0 }, [], [], 0)).toEqual([{ text: "", mark: 0 }]);
  });
});

describe("wrapRows", () => {
  it("cuts long lines after a space when it can, mid-word when it must, never past the width", () => {
    const ls = lines("short", "aaaa bbbb cccc dddd", "x".repeat(25), '{"a":1,"bb":2,"c":3}');
    const rows = wrapRows(ls, 10);
    const text = (r: { line: number; from: number; to: number }) => ls[r.line].text.slice(r.from, r.to);
    expect(rows.map(text)).toEqual(["short", "aaaa bbbb ", "cccc dddd", "xxxxxxxxxx", "xxxxxxxxxx", "xxxxx", '{"a":1,', '"bb":2,', '"c":3}']);
    expect(rows.every((r) => r.to - r.from <= 10)).toBe(true);
    // Every character is on exactly one row.
    for (let line = 0; line < ls.length; line++) expect(rows.filter((r) => r.line === line).map(text).join("")).toBe(ls[line].text);
    expect(wrapRows(ls, 0)).toHaveLength(4);
  });
  it("finds the row that shows a character", () => {
    const rows = wrapRows(lines("short", "x".repeat(25), "end"), 10);
    expect(rowOf(rows, 0, 3)).toBe(0);
    expect(rowOf(rows, 1, 0)).toBe(1);
    expect(rowOf(rows, 1, 19)).toBe(2);
    expect(rowOf(rows, 1, 20)).toBe(3);
    expect(rowOf(rows, 2, 0)).toBe(4);
  });
});
