/** What a backend's key pool looks like to a person: pure functions over the engine's types, so
 *  the backend form, the backend list and the mapping screen say the same thing. */
import type { BackendInfo, KeyHealth, KeyState } from "../bindings";

/** The name of a backend's own keychain entry inside its pool (the engine's `DEFAULT_KEY_NAME`). */
export const DEFAULT_KEY = "default";

/** A key's health as it stands at `now`: a cooldown that has run out is over, even before the
 *  next refresh of the states says so. */
export function healthAt(health: KeyHealth, now: number): KeyHealth {
  return health.state === "cooling_down" && health.until_ms <= now ? { state: "ready" } : health;
}

/** How a backend's keys come: from environment variables, from several keychain entries used
 *  in turn, or one keychain entry (or none yet). */
export function keyMode(b: Pick<BackendInfo, "keys" | "key">): "env" | "pool" | "single" {
  if (b.key === "env" || b.keys.some((k) => k.from_env)) return "env";
  return b.keys.length > 1 ? "pool" : "single";
}

/** What keeps a pool's keys from being used, summed up for a target of a route. */
export type PoolTrouble =
  | { kind: "none" }
  /** Every key was refused by the provider: requests to the backend fail until one is set anew. */
  | { kind: "all_refused"; total: number }
  /** No key can be used now, some are resting after a 429: the backend is skipped until the
   *  first comes back (`until_ms`); `refused` of them are refused for good. */
  | { kind: "all_resting"; total: number; refused: number; until_ms: number }
  /** Some keys are out; the others carry the requests. */
  | { kind: "some"; total: number; refused: number; cooling: number; until_ms: number | null };

export function poolTrouble(keys: readonly KeyState[], now: number): PoolTrouble {
  const health = keys.map((k) => healthAt(k.health, now));
  const total = health.length;
  const refused = health.filter((h) => h.state === "rejected").length;
  const until = health.flatMap((h) => (h.state === "cooling_down" ? [h.until_ms] : []));
  const cooling = until.length;
  if (refused + cooling === 0) return { kind: "none" };
  // The first key to come back decides when the backend is usable again.
  const first = cooling > 0 ? Math.min(...until) : null;
  if (refused === total) return { kind: "all_refused", total };
  if (refused + cooling === total) return { kind: "all_resting", total, refused, until_ms: first! };
  return { kind: "some", total, refused, cooling, until_ms: first };
}

/** Whether a new key's name would be taken: the engine then only replaces that key's secret,
 *  which the form offers on the key's own row instead. */
export function nameTaken(b: Pick<BackendInfo, "keys">, name: string): boolean {
  const n = name.trim();
  return n !== "" && b.keys.some((k) => k.name === n);
}
