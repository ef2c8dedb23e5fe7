import { describe, expect, it } from "vitest";
import type { KeyState } from "../bindings";
import { healthAt, keyMode, nameTaken, poolTrouble } from "./keys";

const NOW = 1_800_000_000_000;
const ready = (name: string): KeyState => ({ name, health: { state: "ready" } });
const refused = (name: string): KeyState => ({ name, health: { state: "rejected", status: 401, since_ms: NOW - 60_000 } });
const resting = (name: string, ms: number): KeyState => ({ name, health: { state: "cooling_down", until_ms: NOW + ms } });

describe("a key pool's trouble", () => {
  it("is none for ready keys, and for a single-key backend (no key states)", () => {
    expect(poolTrouble([ready("a"), ready("b")], NOW)).toEqual({ kind: "none" });
    expect(poolTrouble([], NOW)).toEqual({ kind: "none" });
  });

  it("counts refused and resting keys while others still carry the requests", () => {
    expect(poolTrouble([ready("a"), refused("b")], NOW)).toEqual({ kind: "some", total: 2, refused: 1, cooling: 0, until_ms: null });
    expect(poolTrouble([resting("a", 9_000), ready("b"), resting("c", 4_000)], NOW))
      .toEqual({ kind: "some", total: 3, refused: 0, cooling: 2, until_ms: NOW + 4_000 });
  });

  it("says when no key is usable: all refused, or resting until the first comes back", () => {
    expect(poolTrouble([refused("a"), refused("b")], NOW)).toEqual({ kind: "all_refused", total: 2 });
    expect(poolTrouble([resting("a", 30_000), resting("b", 10_000)], NOW)).toEqual({ kind: "all_resting", total: 2, refused: 0, until_ms: NOW + 10_000 });
    expect(poolTrouble([refused("a"), resting("b", 10_000)], NOW)).toEqual({ kind: "all_resting", total: 2, refused: 1, until_ms: NOW + 10_000 });
  });

  it("treats a cooldown that has run out as over, before the next refresh says so", () => {
    expect(healthAt({ state: "cooling_down", until_ms: NOW - 1 }, NOW)).toEqual({ state: "ready" });
    expect(poolTrouble([resting("a", -500), ready("b")], NOW)).toEqual({ kind: "none" });
    // A refusal does not wear off: only a new secret lifts it.
    expect(healthAt(refused("a").health, NOW + 86_400_000)).toEqual(refused("a").health);
  });
});

describe("how a backend's keys come", () => {
  const key = (name: string, from_env = false) => ({ name, from_env, present: true });
  it("from the environment, several keychain keys, or one", () => {
    expect(keyMode({ key: "env", keys: [key("A", true)] })).toBe("env");
    expect(keyMode({ key: "env", keys: [key("A", true), key("B", true)] })).toBe("env");
    expect(keyMode({ key: "keychain", keys: [key("default"), key("team")] })).toBe("pool");
    expect(keyMode({ key: "keychain", keys: [key("default")] })).toBe("single");
    expect(keyMode({ key: "none", keys: [] })).toBe("single");
  });

  it("a new key's name is taken when a key of the backend has it, spaces aside", () => {
    const b = { keys: [key("default"), key("team")] };
    expect(nameTaken(b, " team ")).toBe(true);
    expect(nameTaken(b, "default")).toBe(true);
    expect(nameTaken(b, "work")).toBe(false);
    expect(nameTaken(b, "  ")).toBe(false);
  });
});
