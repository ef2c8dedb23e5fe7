// A fake of the Rust side, for UI tests only (Vitest and Playwright). It answers the same
// commands with the same types as src-tauri, from in-memory state seeded with realistic data.
// Never imported by the app itself.
import type {
  BackendCheck, BackendDraft, BackendField, BackendInfo, CheckedModel, CommandError, DeleteMode, Dependent, GatewayStatus,
  ProfileView, RequestRow, Settings, SettingsInput, UsageFilter, UsageSummary, Totals, Slice, RequestStatus, ClaudeCodeStatus,
  ConfigureReport, RestoreReport, TargetSpec, DayPoint, LastError, FoundEngine, FamilyModels, SetupState,
  ProjectReport, When, SessionSummary, AgentSummary, BackendState, ImportReport, ReportRow, KeyHealth, KeyInfo, KeySource,
  Capture, CaptureStatus, ReplayAnswer, ReplayReport, ReplayTo,
} from "../bindings";
import { answerText, captureOfRow, seedCaptures } from "./fake-captures";

export type Scenario = "default" | "empty" | "errors";

const DAY = 86_400_000;

function err(kind: CommandError["kind"], message: string, field?: BackendField | null): CommandError {
  return field ? { kind, message, field } : { kind, message };
}

function isLocalUrl(url: string): boolean {
  return /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|\/|$)/.test(url);
}

export interface FakeState {
  scenario: Scenario;
  /** Commands that fail with their realistic error (all of them in the "errors" scenario). */
  fail: Set<string>;
  backends: BackendInfo[];
  profiles: Record<string, { rules: ProfileView["rules"]; default: ProfileView["default"] }>;
  active: string;
  paused: boolean;
  rows: RequestRow[];
  settings: Settings;
  token: string;
  /** What "the keychain" received: tests assert the key went here and nowhere else. A
   *  backend's own key is under its id, a named key of its pool under `<id>:key:<name>`. */
  keychain: Record<string, string>;
  /** Each backend's `keys = [...]` in the config (absent: its own keychain entry only). */
  pools: Record<string, string[]>;
  /** The environment the engine was started in, for backends with `api_key_env`. */
  env: Record<string, string>;
  /** What requests found of a pool's keys (absent: ready), by backend and key name. */
  keyHealth: Record<string, Record<string, KeyHealth>>;
  calls: { cmd: string; args: unknown }[];
  claudeConfigured: boolean;
  /** The engine's "last error": cleared by pause and resume, like the real one. */
  lastError: LastError | null;
  usageWarning: string | null;
  /** What the last copy_claude_code_env put on the clipboard. */
  copied?: string;
  /** This start wrote the default config (the setup checklist opens). */
  firstRun: boolean;
  /** Engines that answer discovery (only those at a URL no backend points to are "new"). */
  found: FoundEngine[];
  /** Models of backends added from `found`, answered by their check. */
  addedModels: Record<string, CheckedModel[]>;
  /** What the engine reports of a backend now (absent: idle, no limits). */
  states: Record<string, BackendState>;
  /** What the folder dialog returns (null: the user cancels). */
  chosenFolder: string | null;
  /** Project folders configured for a profile: folder → profile. */
  projectFolders: Record<string, string>;
  /** What the open dialog returns for "Import LiteLLM config…" (null: the user cancels). */
  chosenLitellm: string | null;
  /** The request inspector's captures, by id (the engine's `captures` table). */
  captures: Record<string, Capture>;
  /** The capture window the app opened (null: none), like the engine's `CaptureWindow`. */
  captureWindow: { until_ms: number; left: number | null } | null;
  /** Profiles with `capture = true`. */
  captureProfiles: string[];
  /** Whether the engine has a usage database to keep captures in. */
  capturesAvailable: boolean;
  /** Captures dropped because the writer could not keep up. */
  capturesDropped: number;
}

/** Like the engine's `add_found_engine`: the engine's name, lower-case, made unique. */
function uniqueId(label: string, taken: string[]): string {
  const base = label.toLowerCase().replace(/[^a-z0-9._]+/g, "-").replace(/^-+|-+$/g, "");
  if (!taken.includes(base)) return base;
  for (let n = 2; ; n++) if (!taken.includes(`${base}-${n}`)) return `${base}-${n}`;
}

const rootUrl = (u: string) => u.trim().replace(/\/+$/, "").replace(/\/v1$/, "");

function claudeStatus(s: FakeState): ClaudeCodeStatus {
  return {
    settings_path: "/home/dev/.claude/settings.json",
    configured: s.claudeConfigured,
    has_backup: s.claudeConfigured,
    conflicts: s.scenario === "errors"
      ? [{ kind: "api_key_set", message: "ANTHROPIC_API_KEY is set in your shell: Claude Code would send it as x-api-key. Add ANTHROPIC_API_KEY=\"\" to the settings env block or unset it in the shell." }]
      : [],
  };
}

// Who sent the seeded rows: Claude Code sessions over runs of rows (newest first, like the
// rows), some with subagents, and rows from other clients in between, which carry no session.
// A session's rows are `gap_s` apart, so most last minutes; one keeps the rows' 47-minute
// spacing and lasts hours.
interface SeedSession { id: string; from: number; to: number; gap_s: number | null; agents?: Record<number, { id: string; parent?: string }> }
const SUB_A = "a3f9c2e1-7b4d-4e8a-9c1f-2d6e8b0a4c71";
const SUB_B = "e71b04d9-2c5a-4f3e-8b6d-91a0c4f2e5d3";
const SUB_C = "9d2f6b3a-4e1c-4a7d-8f5b-0c3e6a9d2b18";
export const SEED_SESSIONS: SeedSession[] = [
  // Two subagents: A, then B, which A started.
  { id: "5b1c2d3e-8f4a-4c6b-9d2e-7a1f3c5e9b80", from: 0, to: 7, gap_s: 65,
    agents: { 5: { id: SUB_A }, 4: { id: SUB_A }, 3: { id: SUB_B, parent: SUB_A }, 2: { id: SUB_B, parent: SUB_A } } },
  { id: "c8e4a1f7-3b2d-4e6f-a9c8-5d7b1e0f2a64", from: 10, to: 21, gap_s: 95, agents: { 15: { id: SUB_C }, 14: { id: SUB_C } } },
  { id: "2f7a9c4e-1d3b-4a8f-b6e2-8c0d5f9a1b37", from: 22, to: 23, gap_s: 40 },
  { id: "7e3b5d1a-9c2f-4b6e-8a0d-3f1c7e5b9d26", from: 28, to: 45, gap_s: null },
  { id: "b04e8d2c-6a1f-4c3b-9e7d-2a5f8c1b6e03", from: 50, to: 54, gap_s: 120 },
];

function mkRow(now: number, i: number): RequestRow {
  const models = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1", "claude-sonnet-4-5"];
  const requested = models[i % models.length];
  const local = i % 3 !== 2;
  const backend = local ? (requested.includes("haiku") ? "llamacpp" : "ollama") : "anthropic";
  const upstream = local ? (requested.includes("haiku") ? "qwen2.5-coder:1.5b" : "qwen2.5-coder:7b") : requested;
  const error = i % 11 === 5;
  const input = 2_000 + ((i * 7919) % 38_000);
  const output = error ? 0 : 100 + ((i * 104_729) % 2_400);
  const cloudCost = (input * 3 + output * 15) / 1_000_000;
  // Now and then a cloud model the price table does not know: its cost is unknown.
  const unpriced = !local && i % 17 === 8;
  const session = SEED_SESSIONS.find((x) => i >= x.from && i <= x.to);
  const agent = session?.agents?.[i];
  // Rows of a session stay between the rows around it, so the history's order is unchanged.
  const started = session && session.gap_s !== null
    ? now - session.from * 47 * 60_000 - (i - session.from) * session.gap_s * 1000
    : now - i * 47 * 60_000 - (i % 5) * 13_000;
  // The profiles' own rules (see createState): haiku and sonnet have one, opus takes the default.
  const rule = !local ? "default route" : requested.includes("haiku") ? "rule 1: *haiku*" : requested.includes("sonnet") ? "rule 2: *sonnet*" : "default route";
  return {
    id: 10_000 - i,
    started_at_ms: started,
    client: session ? "claude-cli/2.1.30 (external, cli)" : "python-httpx/0.28.1",
    session_id: session?.id ?? null,
    agent_id: agent?.id ?? null,
    parent_agent_id: agent?.parent ?? null,
    requested_model: requested,
    profile: local ? "local" : "cloud",
    backend,
    backend_kind: backend === "ollama" ? "ollama" : backend === "anthropic" ? "anthropic" : "openai_chat",
    upstream_model: upstream,
    stream: true,
    status: error ? "error" : "ok",
    http_status: error ? 529 : 200,
    error_type: error ? "overloaded_error" : null,
    error_message: error ? "Upstream is overloaded (529), retried 2 times" : null,
    input_tokens: input,
    output_tokens: output,
    cache_read_tokens: local ? 0 : Math.floor(input / 2),
    cache_write_tokens: 0,
    ttft_ms: error ? null : 180 + (i % 9) * 70,
    latency_ms: 900 + ((i * 37) % 40) * 110,
    attempts: error ? 3 : i % 13 === 4 ? 2 : 1,
    cost_usd: local ? 0 : unpriced ? null : cloudCost,
    cloud_equiv_usd: unpriced ? null : cloudCost,
    local,
    rule,
    notes: local && i % 7 === 3 ? `server tools dropped for ${backend}: web_search_20250305` : null,
    cache_hit: false,
    // The cloud backend's pool: its own key is "default" in the usage row, as the engine
    // records it.
    key_name: local ? null : i % 2 === 1 ? "team" : "default",
    capture_id: null,
  };
}

/** The engine's `DEFAULT_KEY_NAME`: a backend's own keychain entry inside its pool. */
const DEFAULT_KEY = "default";

/** The keychain account of a key, like the engine's `key_account` (without its `backend:`). */
export function keyAccount(id: string, name: string | null): string {
  return name === null || name === DEFAULT_KEY ? id : `${id}:key:${name}`;
}

/** The variables of `api_key_env` ("A, B" or "A B"), in the order written. */
function envNames(b: Pick<BackendInfo, "api_key_env">): string[] {
  return (b.api_key_env ?? "").split(/[\s,]+/).filter((v) => v !== "");
}

/** Like the engine's `list_keys`: the variables, else the pool's names, else the own entry. */
function keysOf(s: FakeState, b: Pick<BackendInfo, "id" | "api_key_env">): KeyInfo[] {
  const env = envNames(b);
  if (env.length > 0) return env.map((name) => ({ name, from_env: true, present: !!s.env[name] }));
  const names = s.pools[b.id]?.length ? s.pools[b.id] : [DEFAULT_KEY];
  return names.map((name) => ({ name, from_env: false, present: keyAccount(b.id, name) in s.keychain }));
}

/** A backend as `list_backends` shows it: where its keys come from, and each key. */
function infoOf(s: FakeState, b: BackendInfo): BackendInfo {
  const keys = keysOf(s, b);
  const key: KeySource = envNames(b).length > 0 ? "env" : keys.some((k) => k.present) ? "keychain" : "none";
  return { ...structuredClone(b), key, keys };
}

/** Every keychain account a backend's keys may be under (its own and its pool's). */
function accountsOf(s: FakeState, id: string): string[] {
  return Object.keys(s.keychain).filter((a) => a === id || a.startsWith(`${id}:key:`));
}

const KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;

const FAILABLE = ["get_status", "configure_claude_code", "list_backends", "set_backend_key", "test_route", "query_usage", "usage_summary", "usage_sessions", "export_usage_csv"];

export function createState(scenario: Scenario = "default", now = Date.now(), fail?: string[]): FakeState {
  const base: BackendInfo = {
    id: "ollama", kind: "ollama", base_url: "http://127.0.0.1:11434", region: null, project: null, api_key_env: null, key: "none", keys: [],
    context_length: 32768, max_output_tokens: null, timeout_first_byte_s: 300, max_in_flight: 0, local: true, local_declared: null,
    rpm: null, tpm: null,
  };
  const empty = scenario === "empty";
  const rows = empty ? [] : Array.from({ length: 64 }, (_, i) => mkRow(now, i));
  // The newest rows were captured (the seeded captures make them agree with what they hold).
  const captures = seedCaptures(rows);
  return {
    scenario,
    fail: new Set(fail ?? (scenario === "errors" ? FAILABLE : [])),
    backends: empty
      ? []
      : [
          base,
          { ...base, id: "llamacpp", kind: "openai_chat", base_url: "http://127.0.0.1:8080/v1", context_length: 8192 },
          { ...base, id: "anthropic", kind: "anthropic", base_url: "https://api.anthropic.com", key: "keychain", context_length: null, local: false,
            rpm: 50, tpm: 200_000 },
        ],
    profiles: {
      local: empty
        ? { rules: [], default: null }
        : {
            rules: [
              { pattern: "*haiku*", route: { strategy: "ordered", targets: [{ backend: "llamacpp", model: "qwen2.5-coder:1.5b", weight: null }], fallbacks: [{ backend: "anthropic", model: "claude-haiku-4-5", weight: null }] } },
              { pattern: "*sonnet*", route: { strategy: "ordered", targets: [{ backend: "ollama", model: "qwen2.5-coder:7b", weight: null }], fallbacks: [] } },
            ],
            default: { strategy: "ordered", targets: [{ backend: "ollama", model: "qwen2.5-coder:7b", weight: null }], fallbacks: [] },
          },
      cloud: { rules: [], default: empty ? null : { strategy: "ordered", targets: [{ backend: "anthropic", model: null, weight: null }], fallbacks: [] } },
    },
    active: "local",
    paused: false,
    rows,
    settings: {
      port: 4747, listen_addr: "127.0.0.1:4747", autostart: false,
      retention_days: null, language: "system", theme: "system", config_path: "/home/dev/.config/switchyard/config.toml",
    },
    token: "sy-local-7f3c9a1e5b2d4c6f8e0a1b3c5d7e9f21",
    // The cloud backend rotates over two keys; the second was refused a few minutes ago (the
    // last error says so too).
    keychain: empty ? {} : { anthropic: "sk-ant-seeded-own-0001", "anthropic:key:team": "sk-ant-seeded-team-0002" },
    pools: empty ? {} : { anthropic: [DEFAULT_KEY, "team"] },
    env: {},
    keyHealth: empty ? {} : { anthropic: { team: { state: "rejected", status: 401, since_ms: now - 5 * 60_000 } } },
    calls: [],
    claudeConfigured: false,
    firstRun: scenario === "empty",
    addedModels: {},
    chosenFolder: "/home/dev/src/webshop",
    states: {},
    projectFolders: {},
    chosenLitellm: "/home/dev/litellm/config.yaml",
    found: [{
      engine: "ollama", label: "Ollama", base_url: "http://127.0.0.1:11500", backend_id: null,
      models: ["qwen2.5-coder:1.5b", "qwen2.5-coder:14b"],
      suggested: { opus: "qwen2.5-coder:14b", sonnet: "qwen2.5-coder:14b", haiku: "qwen2.5-coder:1.5b" },
    }],
    lastError: scenario === "empty" ? null : { at_ms: now - 5 * 60_000, requested_model: "claude-opus-4-1", backend: "anthropic", message: "Key rejected by anthropic (HTTP 401): invalid x-api-key" },
    usageWarning: null,
    captures,
    captureWindow: null,
    captureProfiles: [],
    capturesAvailable: true,
    capturesDropped: 0,
  };
}

export function statusOf(s: FakeState): GatewayStatus {
  const today = new Date();
  today.setHours(0, 0, 0, 0);
  const todays = s.rows.filter((r) => r.started_at_ms >= today.getTime());
  return {
    listen_addr: s.settings.listen_addr,
    base_url: `http://${s.settings.listen_addr}`,
    active_profile: s.active,
    profiles: Object.keys(s.profiles).sort(),
    paused: s.paused,
    requests_today: todays.length,
    errors_today: todays.filter((r) => r.status === "error").length,
    tokens_today: todays.reduce((a, r) => a + r.input_tokens + r.output_tokens, 0),
    cost_today_usd: todays.reduce((a, r) => a + (r.cost_usd ?? 0), 0),
    unpriced_today: todays.filter((r) => r.cost_usd === null).length,
    last_error: s.lastError,
    usage_warning: s.usageWarning,
  };
}

/** A profile as the engine's `view_of` sends it: `when` always there (null for a rule by name),
 *  a target's `vision` only when set. */
function viewOf(s: FakeState, name: string): ProfileView {
  const p = structuredClone(s.profiles[name]);
  return { name, active: name === s.active, rules: p.rules.map((r) => ({ ...r, when: r.when ?? null })), default: p.default };
}

function profileViews(s: FakeState): ProfileView[] {
  return Object.keys(s.profiles).sort().map((name) => viewOf(s, name));
}

/** Like the engine's `profile_of`: a `vision` of null is not written. */
function targetsOf(targets: TargetSpec[]): TargetSpec[] {
  return targets.map(({ vision, ...t }) => (vision == null ? t : { ...t, vision }));
}

function matches(r: RequestRow, f: UsageFilter): boolean {
  if (f.since_ms !== null && r.started_at_ms < f.since_ms) return false;
  if (f.until_ms !== null && r.started_at_ms >= f.until_ms) return false;
  if (f.backend && r.backend !== f.backend) return false;
  if (f.profile && r.profile !== f.profile) return false;
  if (f.status && r.status !== f.status) return false;
  if (f.session_id && r.session_id !== f.session_id) return false;
  const text = f.text?.trim().toLowerCase();
  if (text) {
    return [r.requested_model, r.upstream_model, r.backend, r.client].some((x) => x?.toLowerCase().includes(text));
  }
  return true;
}

// Same sums as the store's rollups (crates/switchyard-core/src/usage/query.rs).
function zero(): Totals {
  return {
    requests: 0, errors: 0, cancelled: 0, input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0,
    cost_usd: 0, unpriced: 0, cloud_equiv_usd: 0, saved_usd: 0, avg_latency_ms: 0,
  };
}
function add(t: Totals, r: RequestRow) {
  t.avg_latency_ms = (t.avg_latency_ms * t.requests + r.latency_ms) / (t.requests + 1);
  t.requests += 1;
  if (r.status === "error") t.errors += 1;
  if (r.status === "cancelled") t.cancelled += 1;
  t.input_tokens += r.input_tokens;
  t.output_tokens += r.output_tokens;
  t.cache_read_tokens += r.cache_read_tokens;
  t.cache_write_tokens += r.cache_write_tokens;
  if (r.cost_usd === null) t.unpriced += 1;
  else t.cost_usd += r.cost_usd;
  t.cloud_equiv_usd += r.cloud_equiv_usd ?? 0;
  if (r.cost_usd !== null && r.cloud_equiv_usd !== null) t.saved_usd += r.cloud_equiv_usd - r.cost_usd;
}
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Like the engine's `per_day`: every UTC day from the range's first day (or the first day with
 *  data) to its last (or today), zeros included. */
export function perDay(rows: RequestRow[], f: Pick<UsageFilter, "since_ms" | "until_ms">, now = Date.now()): DayPoint[] {
  const days = new Map<string, Totals>();
  for (const r of rows) {
    const day = isoDay(r.started_at_ms);
    if (!days.has(day)) days.set(day, zero());
    add(days.get(day)!, r);
  }
  const first = f.since_ms !== null ? isoDay(f.since_ms) : [...days.keys()].sort()[0];
  if (first === undefined) return [];
  const lastWanted = isoDay(f.until_ms !== null ? f.until_ms - 1 : now);
  const lastData = [...days.keys()].sort().pop() ?? lastWanted;
  const last = lastData > lastWanted ? lastData : lastWanted;
  const out: DayPoint[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`); isoDay(t) <= last; t += DAY) {
    const day = isoDay(t);
    out.push({ start_ms: t, day, totals: days.get(day) ?? zero() });
  }
  return out;
}

function summarize(s: FakeState, rows: RequestRow[], f: UsageFilter): UsageSummary {
  const total = zero(), local = zero(), cloud = zero();
  const models = new Map<string, Slice>();
  const backends = new Map<string, Slice>();
  for (const r of rows) {
    add(total, r);
    add(r.local ? local : cloud, r);
    const m = r.requested_model;
    if (!models.has(m)) models.set(m, { label: m, local: null, totals: zero() });
    add(models.get(m)!.totals, r);
    const b = r.backend ?? "";
    if (!backends.has(b)) backends.set(b, { label: b, local: s.backends.find((x) => x.id === b)?.local ?? null, totals: zero() });
    add(backends.get(b)!.totals, r);
  }
  const bySpend = (a: Slice, b: Slice) => b.totals.cost_usd - a.totals.cost_usd || b.totals.requests - a.totals.requests;
  return {
    total, local, cloud,
    saved_usd: total.saved_usd,
    per_day: perDay(rows, f),
    by_model: [...models.values()].sort(bySpend),
    by_backend: [...backends.values()].sort(bySpend),
  };
}

/** Like the engine's `sessions` (crates/switchyard-core/src/usage/sessions.rs): the sessions
 *  with a request the filter selects (the text search aside), the `limit` latest by their last
 *  request; each summed over all its requests, those outside the filter too; the main agent
 *  first, then subagents by their first request; newest (last to end) first. */
export function sessionsOf(rows: RequestRow[], f: UsageFilter, limit: number): SessionSummary[] {
  const latest = new Map<string, number>();
  for (const r of rows) {
    if (r.session_id === null || !matches(r, { ...f, text: null })) continue;
    latest.set(r.session_id, Math.max(latest.get(r.session_id) ?? -Infinity, r.started_at_ms));
  }
  const chosen = [...latest].sort((a, b) => b[1] - a[1]).slice(0, Math.min(Math.max(limit, 1), 500)).map(([id]) => id);
  const modelOf = (r: RequestRow) => (r.backend && r.upstream_model ? `${r.backend}/${r.upstream_model}` : r.backend ?? r.requested_model);
  const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
  const out = chosen.map((id): SessionSummary => {
    const mine = rows.filter((r) => r.session_id === id);
    const byAgent = new Map<string | null, RequestRow[]>();
    for (const r of mine) byAgent.set(r.agent_id, [...(byAgent.get(r.agent_id) ?? []), r]);
    const agents = [...byAgent].map(([agent_id, rs]): AgentSummary => {
      const totals = zero();
      for (const r of rs) add(totals, r);
      const parents = rs.map((r) => r.parent_agent_id).filter((p): p is string => p !== null).sort();
      return { agent_id, parent_agent_id: parents.pop() ?? null, started_at_ms: Math.min(...rs.map((r) => r.started_at_ms)), totals, models: sorted(rs.map(modelOf)) };
    });
    agents.sort((a, b) => Number(a.agent_id !== null) - Number(b.agent_id !== null) || a.started_at_ms - b.started_at_ms);
    const totals = zero();
    for (const r of mine) add(totals, r);
    return {
      session_id: id,
      started_at_ms: Math.min(...mine.map((r) => r.started_at_ms)),
      ended_at_ms: Math.max(...mine.map((r) => r.started_at_ms + r.latency_ms)),
      totals,
      models: sorted(mine.map(modelOf)),
      agents,
    };
  });
  return out.sort((a, b) => b.ended_at_ms - a.ended_at_ms);
}

const MODELS: Record<string, CheckedModel[]> = {
  ollama: [{ id: "qwen2.5-coder:7b", context_length: 32768 }, { id: "qwen2.5-coder:1.5b", context_length: 32768 }, { id: "llama3.1:8b", context_length: 131072 }],
  llamacpp: [{ id: "smollm2", context_length: 8192 }],
  anthropic: [{ id: "claude-sonnet-4-5", context_length: 200000 }, { id: "claude-opus-4-1", context_length: 200000 }, { id: "claude-haiku-4-5", context_length: 200000 }],
};

/** Like the engine's check: a cloud backend without a stored key is told so; unknown ones are down. */
function checkOf(s: FakeState, b: BackendInfo): BackendCheck {
  const at = (kind: BackendCheck["outcome"], message: string, detail: string, ok = false): BackendCheck =>
    ({ backend: b.id, url: b.base_url, outcome: kind, ok, message, detail, latency_ms: ok ? 42 : 3 });
  const models = s.addedModels[b.id] ?? MODELS[b.id];
  const modelsUrl = b.kind === "ollama" ? `${b.base_url}/api/tags` : b.kind === "anthropic" ? `${b.base_url}/v1/models` : `${b.base_url}/models`;
  if (b.local && !models) return at({ kind: "not_running" }, `${b.id} is not running at ${b.base_url}`, `GET ${modelsUrl}: connection refused`);
  if (!b.local && b.key === "none")
    return at({ kind: "key_missing" }, `${b.id} needs a key: add one in the backend's settings`,
      `GET ${modelsUrl} → HTTP 401: {"type":"error","error":{"type":"authentication_error","message":"x-api-key header is required"}}`);
  if (!b.local && s.keychain[b.id] === "sk-wrong")
    return at({ kind: "key_rejected" }, `Key rejected by ${b.id}`,
      `GET ${modelsUrl} → HTTP 401: {"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`);
  const list = models ?? [];
  return at({ kind: "ok", models: list }, `${b.id} is running and offers ${list.length} models`, `GET ${modelsUrl} → HTTP 200: {"data":[…]}`, true);
}

type Route = { targets: TargetSpec[]; fallbacks: TargetSpec[] };
function routesOf(s: FakeState): { profile: string; rule: string | null; index: number | null; route: Route }[] {
  const out = [];
  for (const profile of Object.keys(s.profiles).sort()) {
    const p = s.profiles[profile];
    if (p.default) out.push({ profile, rule: null, index: null, route: p.default });
    p.rules.forEach((r, i) => out.push({ profile, rule: r.pattern, index: i, route: r.route }));
  }
  return out;
}

function dependents(s: FakeState, id: string): Dependent[] {
  const out: Dependent[] = [];
  for (const r of routesOf(s)) {
    if (r.route.targets.some((t) => t.backend === id)) out.push({ profile: r.profile, rule: r.rule, rule_index: r.index, role: "target" });
    if (r.route.fallbacks.some((t) => t.backend === id)) out.push({ profile: r.profile, rule: r.rule, rule_index: r.index, role: "fallback" });
  }
  return out;
}

function repoint(s: FakeState, from: string, to: string) {
  for (const r of routesOf(s)) for (const t of [...r.route.targets, ...r.route.fallbacks]) if (t.backend === from) t.backend = to;
}

function removeTargets(s: FakeState, id: string): Dependent[] {
  const removed: Dependent[] = [];
  const strip = (route: Route) => {
    route.targets = route.targets.filter((t) => t.backend !== id);
    route.fallbacks = route.fallbacks.filter((t) => t.backend !== id);
    if (route.targets.length === 0) [route.targets, route.fallbacks] = [route.fallbacks, []];
    return route.targets.length === 0;
  };
  for (const profile of Object.keys(s.profiles).sort()) {
    const p = s.profiles[profile];
    if (p.default && strip(p.default)) {
      p.default = null;
      removed.push({ profile, rule: null, rule_index: null, role: "target" });
    }
    p.rules = p.rules.filter((r, i) => {
      const uses = [...r.route.targets, ...r.route.fallbacks].some((t) => t.backend === id);
      if (uses && strip(r.route)) {
        removed.push({ profile, rule: r.pattern, rule_index: i, role: "target" });
        return false;
      }
      return true;
    });
  }
  return removed;
}

/** The LiteLLM file the fake "reads" for any path but these: `…/broken.yaml` is not YAML,
 *  `…/huge.yaml` is over the engine's 1 MiB bound. */
export const LITELLM_ROWS: ReportRow[] = [
  { outcome: "imported", line: 2, item: "model_name team-coder", detail: "rule \"team-coder\" → vllm: qwen3-coder (new rule)" },
  { outcome: "imported", line: 4, item: "openai/ at http://127.0.0.1:8000/v1", detail: "backend \"vllm\" (new)" },
  { outcome: "imported", line: 9, item: "openai/ at https://api.openai.com/v1", detail: "backend \"openai\" (new); its key goes to the keychain" },
  { outcome: "not_imported", line: 11, item: "model_list[2] team-bedrock", detail: "bedrock/ models use AWS request signing, which Switchyard does not do; reach them through an Anthropic-compatible proxy instead" },
  { outcome: "not_imported", line: 17, item: "litellm_settings.cache", detail: "not taken over: Switchyard has its own response cache in its SQLite file; turn it on with [cache] enabled = true and cache = true on the profile" },
  { outcome: "not_needed", line: 20, item: "general_settings.master_key", detail: "the gateway has its own local token" },
];

function importLitellm(s: FakeState, path: string, profile: string | null, dryRun: boolean): ImportReport {
  if (path.endsWith("broken.yaml")) throw err("invalid_input", "The LiteLLM file is not valid YAML: line 4, column 7: did not find expected key");
  if (path.endsWith("huge.yaml")) throw err("invalid_input", `${path} is 3.2 MiB, too large for a LiteLLM config (at most 1 MiB): choose the proxy's config.yaml`);
  const name = (profile ?? s.active).trim();
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw err("invalid_input", `"${name}" cannot be a profile name: give a name such as litellm`);
  const done = s.profiles[name]?.rules.some((r) => r.pattern === "team-coder") ?? false;
  const report: ImportReport = {
    profile: name, dry_run: dryRun, changed: !done, rows: structuredClone(LITELLM_ROWS), keys_stored: done ? [] : ["openai"],
    config_path: s.settings.config_path, backup: null,
  };
  if (dryRun || done) return report;
  const added: BackendInfo = {
    id: "vllm", kind: "openai_chat", base_url: "http://127.0.0.1:8000/v1", region: null, project: null, api_key_env: null, key: "none", keys: [], context_length: null,
    max_output_tokens: null, timeout_first_byte_s: 300, max_in_flight: 0, local: true, local_declared: null, rpm: null, tpm: null,
  };
  if (!s.backends.some((b) => b.id === "vllm")) s.backends.push(added);
  if (!s.backends.some((b) => b.id === "openai"))
    s.backends.push({ ...added, id: "openai", base_url: "https://api.openai.com/v1", key: "keychain", local: false });
  s.keychain.openai = "sk-from-the-litellm-file";
  s.profiles[name] ??= { rules: [], default: null };
  s.profiles[name].rules.push({ pattern: "team-coder", route: { strategy: "ordered", targets: [{ backend: "vllm", model: "qwen3-coder", weight: null }], fallbacks: [] } });
  return { ...report, backup: `${s.settings.config_path}.bak-20261123-090512` };
}

/** The longest capture window the engine opens (`MAX_WINDOW_MINUTES`). */
const MAX_WINDOW_MINUTES = 24 * 60;

/** Like the engine's `capture_status`: the window while it is open (time left and, if it was
 *  given one, requests left), the profiles that capture everything. */
export function captureStatusOf(s: FakeState, now = Date.now()): CaptureStatus {
  const w = s.captureWindow;
  const open = w !== null && w.until_ms > now && w.left !== 0;
  return {
    available: s.capturesAvailable,
    window: open ? { until_ms: w.until_ms, requests_left: w.left } : { until_ms: null, requests_left: null },
    profiles: [...s.captureProfiles],
    dropped: s.capturesDropped,
  };
}

/** Whether a request is captured, taking one from the window's count (the engine's `take`). */
function takeCapture(s: FakeState, profile: string, now: number): boolean {
  if (!s.capturesAvailable) return false;
  if (s.captureProfiles.includes(profile)) return true;
  const w = s.captureWindow;
  if (!w || w.until_ms <= now || w.left === 0) return false;
  if (w.left !== null) w.left -= 1;
  return true;
}

/** Prices like the fake's rows: Anthropic's models at $3 / $15 per million, local ones free,
 *  models the table does not know unknown. */
function priceOf(s: FakeState, backend: string, model: string, input: number, output: number): number | null {
  const b = s.backends.find((x) => x.id === backend);
  if (b?.local) return 0;
  if (backend !== "anthropic" || !model.startsWith("claude-")) return null;
  return (input * 3 + output * 15) / 1_000_000;
}

/** Like the engine's `replay`: the captured request sent again, whole, to one target or through
 *  a profile's rules; recorded in the usage history (and captured when capture is on). */
function replay(s: FakeState, id: string, to: ReplayTo, failing: boolean): ReplayReport {
  const c = s.captures[id];
  if (!c) throw err("not_found", `there is no capture ${id} (it may have passed its retention, or been deleted)`);
  let backend: string;
  let model: string;
  let rule: string;
  if ("target" in to) {
    if (!s.backends.some((b) => b.id === to.target.backend)) throw err("not_found", `There is no backend called ${to.target.backend}: choose one of the configured backends`);
    backend = to.target.backend;
    model = to.target.model ?? c.requested_model;
    rule = `replay to ${backend}/${model}`;
  } else {
    const p = s.profiles[to.profile];
    if (!p) throw err("not_found", `There is no profile called ${to.profile}`);
    const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
    const i = p.rules.findIndex((r) => !r.when && glob(r.pattern).test(c.requested_model));
    const target = i >= 0 ? p.rules[i].route.targets[0] : p.default?.targets[0];
    if (!target) throw err("not_found", `No route for model "${c.requested_model}" in profile "${to.profile}"`);
    backend = target.backend;
    model = target.model ?? c.requested_model;
    rule = i >= 0 ? `rule ${i + 1}: ${p.rules[i].pattern}` : "default route";
  }
  if (failing) throw err("engine", "the replay got no answer within 10 minutes");
  const local = s.backends.find((b) => b.id === backend)?.local ?? false;
  const output = Math.max(8, Math.round(c.output_tokens * (local ? 1.4 : 0.9)));
  const latency = local ? 2_480 : 1_310;
  const text = local
    ? `[${model}] Looking at count_tokens: the estimate is computed before the messages are parsed, so it counts nothing. Moving the call after parsing fixes it.`
    : `[${model}] count_tokens returns 0 because the estimate runs on an empty message list; compute it after parsing the request.`;
  const row = newRow(s, {
    requested_model: c.requested_model, profile: "target" in to ? c.profile : to.profile, backend, upstream_model: model, local,
    backend_kind: s.backends.find((b) => b.id === backend)?.kind ?? null, stream: false, status: "ok", http_status: 200,
    input_tokens: c.input_tokens, output_tokens: output, latency_ms: latency, ttft_ms: latency, attempts: 1, rule, notes: null,
    cost_usd: priceOf(s, backend, model, c.input_tokens, output), session_id: null, agent_id: null, parent_agent_id: null,
    client: "switchyard replay", key_name: null, error_type: null, error_message: null,
  });
  const answered = c.attempts[c.attempts.length - 1];
  const originalRow = s.rows.find((r) => r.capture_id === c.id);
  const original: ReplayAnswer = {
    backend: answered?.backend ?? null, upstream_model: answered?.upstream_model ?? null, status: c.client_response.status,
    text: answerText(c), latency_ms: Math.round(c.timings.total_ms), input_tokens: c.input_tokens, output_tokens: c.output_tokens,
    cost_usd: originalRow?.cost_usd ?? null, capture_id: c.id,
  };
  return {
    original,
    replay: {
      backend, upstream_model: model, status: 200, text, latency_ms: latency, input_tokens: c.input_tokens, output_tokens: output,
      cost_usd: row.cost_usd, capture_id: row.capture_id,
    },
    note: c.stream ? "The original was streamed; the replay asks for the whole answer at once, so its latency is the full answer's" : null,
  };
}

/** Handles one command like src-tauri would. Throws a CommandError on failure. */
export function handle(s: FakeState, cmd: string, a: Record<string, any> = {}): unknown {
  s.calls.push({ cmd, args: cmd === "set_backend_key" ? { id: a.id, name: a.name, key: "<redacted>" } : a });
  const failing = s.fail.has(cmd);
  switch (cmd) {
    case "get_status":
      if (failing) throw err("engine", "The gateway could not bind 127.0.0.1:4747: address already in use");
      return statusOf(s);
    case "set_active_profile":
      if (!s.profiles[a.name]) throw err("invalid_input", `unknown profile "${a.name}"`);
      s.active = a.name;
      return statusOf(s);
    case "set_paused":
      if (s.paused !== a.paused) s.lastError = null;
      s.paused = a.paused as boolean;
      return statusOf(s);
    case "recent_requests":
      return [...s.rows].sort((x, y) => y.started_at_ms - x.started_at_ms).slice(0, a.limit);
    case "claude_code_env":
      return { vars: [{ name: "ANTHROPIC_BASE_URL", value: `http://${s.settings.listen_addr}` }, { name: "ANTHROPIC_AUTH_TOKEN", value: s.token }], shell: "" };
    case "copy_claude_code_env":
      if (a.profile != null && !s.profiles[a.profile as string]) throw err("not_found", `There is no profile called “${a.profile}”.`);
      s.copied = a.profile == null ? `export ANTHROPIC_BASE_URL='http://${s.settings.listen_addr}'` : `export ANTHROPIC_BASE_URL='http://${s.settings.listen_addr}/profiles/${a.profile}'`;
      return null;
    case "claude_code_env_for": {
      if (!s.profiles[a.profile as string]) throw err("not_found", `There is no profile called “${a.profile}”.`);
      const url = `http://${s.settings.listen_addr}/profiles/${a.profile}`;
      return { vars: [{ name: "ANTHROPIC_BASE_URL", value: url }, { name: "ANTHROPIC_AUTH_TOKEN", value: s.token }], shell: `export ANTHROPIC_BASE_URL='${url}'` };
    }
    case "choose_project_folder":
      // What the native folder dialog returns when the user picks a folder (null: cancelled).
      return s.chosenFolder;
    case "configure_project_folder": {
      if (!s.profiles[a.profile as string]) throw err("not_found", `There is no profile called “${a.profile}”.`);
      if (failing) throw err("invalid_input", `“${a.folder}” is not a folder: choose the project's folder.`);
      const path = `${a.folder}/.claude/settings.local.json`;
      const again = s.projectFolders[a.folder] === a.profile;
      s.projectFolders[a.folder] = a.profile;
      const base_url = `http://${s.settings.listen_addr}/profiles/${a.profile}`;
      return {
        folder: a.folder, profile: a.profile, base_url,
        status: { settings_path: path, configured: true, has_backup: true, conflicts: [] },
        changed: again ? [] : ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"],
        backup: again ? null : `${path}.switchyard-backup`,
        git_excluded: !again,
      } satisfies ProjectReport;
    }
    case "restore_project_folder": {
      const path = `${a.folder}/.claude/settings.local.json`;
      const was = s.projectFolders[a.folder];
      delete s.projectFolders[a.folder];
      return {
        status: { settings_path: path, configured: false, has_backup: false, conflicts: [] },
        reverted: was ? ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"] : [],
        kept: [],
        message: was ? `Undid Switchyard's changes to ${path}.` : `Switchyard has not changed ${path}: there is nothing to restore.`,
      } satisfies RestoreReport;
    }
    case "backend_states":
      return s.backends.map((b): BackendState => {
        // Like the engine: each key's health only for a backend with several keys.
        const keys = keysOf(s, b);
        const pool = keys.length > 1 ? keys.map((k) => ({ name: k.name, health: s.keyHealth[b.id]?.[k.name] ?? { state: "ready" as const } })) : [];
        const set = s.states[b.id];
        if (set) return { ...set, keys: set.keys ?? pool };
        // Idle: a limit's count is there (0) only when the backend has that limit.
        return {
          backend: b.id, cooling_until_ms: null, limited_until_ms: null, requests_last_minute: b.rpm == null ? null : 0, rpm: b.rpm,
          tokens_last_minute: b.tpm == null ? null : 0, tpm: b.tpm, in_flight: 0, keys: pool,
        };
      });
    case "claude_code_status":
      return claudeStatus(s);
    case "configure_claude_code": {
      if (failing) throw err("io", "Could not write /home/dev/.claude/settings.json: permission denied");
      const changed = s.claudeConfigured ? [] : ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"];
      s.claudeConfigured = true;
      return { status: claudeStatus(s), changed, blanked_api_key: s.scenario === "errors" && changed.length > 0, backup: changed.length > 0 ? "/home/dev/.claude/settings.json.switchyard-backup" : null } satisfies ConfigureReport;
    }
    case "restore_claude_code":
      s.claudeConfigured = false;
      return {
        status: claudeStatus(s),
        reverted: ["ANTHROPIC_BASE_URL", "ANTHROPIC_AUTH_TOKEN"],
        kept: s.scenario === "errors" ? ["API_TIMEOUT_MS"] : [],
        message: "Undid Switchyard's changes to /home/dev/.claude/settings.json.",
      } satisfies RestoreReport;
    case "list_backends":
      if (failing) throw err("io", "Could not read the config file: permission denied");
      return s.backends.map((b) => infoOf(s, b));
    case "save_backend": {
      // Same rules as the engine (config::validate), with the field they concern.
      const draft = a.draft as BackendDraft;
      const id = draft.id.trim();
      const url = draft.base_url.trim().replace(/\/+$/, "");
      if (s.backends.some((b) => b.id === id && b.id !== a.originalId))
        throw err("invalid_input", `Another backend is already called ${id}: choose a different id`, "id");
      if (!/^[A-Za-z0-9._-]+$/.test(id)) throw err("invalid_input", "Use only letters, digits, '-', '_' or '.' in the id, for example my-vllm", "id");
      // Bedrock and Vertex may leave the URL empty (their region names the endpoint).
      const cloud = draft.kind === "bedrock" || draft.kind === "vertex";
      if (cloud && !draft.region?.trim()) throw err("invalid_input", "Enter the cloud region in lowercase, for example us-east-1 (Bedrock) or us-east5 (Vertex)", "region");
      if (draft.kind === "vertex" && !draft.project?.trim()) throw err("invalid_input", "Enter the Google Cloud project id the Claude models are enabled in, for example my-project", "project");
      if (!(cloud && url === "") && !/^https?:\/\/[^/\s]+/.test(url)) throw err("invalid_input", "Enter a URL that starts with http:// or https://, for example http://127.0.0.1:11434", "base_url");
      if (draft.rpm === 0) throw err("invalid_input", "Enter a whole number of requests above 0, or leave the field empty for no limit", "rpm");
      if (draft.tpm === 0) throw err("invalid_input", "Enter a whole number of tokens above 0, or leave the field empty for no limit", "tpm");
      const prev = s.backends.find((b) => b.id === a.originalId);
      const view: BackendInfo = {
        id, kind: draft.kind, base_url: url, region: cloud ? (draft.region?.trim() ?? null) : null,
        project: draft.kind === "vertex" ? (draft.project?.trim() ?? null) : null, api_key_env: draft.api_key_env?.trim() || null,
        key: prev?.key ?? "none", keys: [], context_length: draft.context_length, max_output_tokens: draft.max_output_tokens,
        timeout_first_byte_s: 300, max_in_flight: 0, local: draft.local ?? (!cloud && isLocalUrl(url)), local_declared: draft.local ?? null,
        rpm: draft.rpm ?? null, tpm: draft.tpm ?? null,
      };
      s.backends = prev ? s.backends.map((b) => (b.id === prev.id ? view : b)) : [...s.backends, view];
      if (prev && prev.id !== id) {
        // A rename: routes follow, and so do its keys (every keychain entry, the pool's list).
        repoint(s, prev.id, id);
        for (const account of accountsOf(s, prev.id)) {
          s.keychain[id + account.slice(prev.id.length)] = s.keychain[account];
          delete s.keychain[account];
        }
        for (const table of [s.pools, s.keyHealth] as Record<string, unknown>[]) {
          if (prev.id in table) {
            table[id] = table[prev.id];
            delete table[prev.id];
          }
        }
      }
      return infoOf(s, view);
    }
    case "backend_dependents":
      return dependents(s, a.id);
    case "delete_backend": {
      if (!s.backends.some((b) => b.id === a.id)) throw err("not_found", `There is no backend called ${a.id}`);
      const mode = a.mode as DeleteMode;
      const used = dependents(s, a.id);
      let removed: Dependent[] = [];
      let repointed: string | null = null;
      if (mode === "refuse_if_used") {
        if (used.length > 0) throw err("invalid_input", `${a.id} is still used by ${used.length} route(s): remove it from them or point them to another backend first`);
      } else if (mode === "remove_targets") {
        removed = removeTargets(s, a.id);
      } else {
        if (!s.backends.some((b) => b.id === mode.repoint_to)) throw err("not_found", `There is no backend called ${mode.repoint_to}`);
        repoint(s, a.id, mode.repoint_to);
        repointed = mode.repoint_to;
      }
      s.backends = s.backends.filter((b) => b.id !== a.id);
      // Every key of it goes with it.
      const accounts = accountsOf(s, a.id);
      for (const account of accounts) delete s.keychain[account];
      delete s.pools[a.id];
      delete s.keyHealth[a.id];
      const keyDeleted = accounts.length > 0;
      return { id: a.id, changed: used, removed, repointed_to: repointed, budgets_removed: [], key_deleted: keyDeleted };
    }
    case "set_backend_key": {
      // The engine's store_backend_key, then add_key (crates/switchyard-core/src/engine/keys.rs).
      const b = s.backends.find((x) => x.id === a.id);
      if (!b) throw err("not_found", `There is no backend called ${a.id}: add it first, then its keys`);
      if (!String(a.key ?? "").trim()) throw err("invalid_input", "Paste a key, or leave the field empty to keep the current one", "api_key");
      const name = typeof a.name === "string" && a.name.trim() !== "" ? a.name.trim() : null;
      if (name !== null && !KEY_NAME.test(name))
        throw err("invalid_input", `${JSON.stringify(name)} cannot name a key: use up to 64 letters, digits, '-', '_' or '.', for example work`, "key_name");
      if (envNames(b).length > 0)
        throw err("invalid_input", `Backend ${b.id} reads its keys from the environment (api_key_env): set the variable instead, or remove api_key_env to keep its keys in the keychain`);
      if (failing) throw err("keychain", "The OS keychain is locked: unlock it (e.g. log in to your desktop session) and try again");
      if (name !== null && name !== DEFAULT_KEY) {
        // A named key joins the pool; a backend whose own entry holds a key keeps it there.
        const pool = s.pools[b.id] ?? [];
        if (pool.length === 0 && b.id in s.keychain) pool.push(DEFAULT_KEY);
        if (!pool.includes(name)) pool.push(name);
        s.pools[b.id] = pool;
      }
      s.keychain[keyAccount(b.id, name)] = String(a.key).trim();
      // A key set anew is tried again, even if the provider refused the old one.
      delete s.keyHealth[b.id]?.[name ?? DEFAULT_KEY];
      return infoOf(s, b);
    }
    case "delete_backend_key": {
      // The engine's remove_key: out of the pool's list first, then out of the keychain.
      const name = typeof a.name === "string" ? a.name : null;
      if (name !== null && !KEY_NAME.test(name))
        throw err("invalid_input", `${JSON.stringify(name)} cannot name a key: use up to 64 letters, digits, '-', '_' or '.', for example work`, "key_name");
      const b = s.backends.find((x) => x.id === a.id);
      if (!b) throw err("not_found", `There is no backend called ${a.id}: add it first, then its keys`);
      const pool = s.pools[b.id] ?? [];
      if (name !== null && pool.length > 0) {
        if (!pool.includes(name)) throw err("not_found", `Backend ${b.id} has no key called ${name}`);
        s.pools[b.id] = pool.filter((k) => k !== name);
      }
      delete s.keychain[keyAccount(b.id, name)];
      delete s.keyHealth[b.id]?.[name ?? DEFAULT_KEY];
      return infoOf(s, b);
    }
    case "test_backend": {
      const b = s.backends.find((x) => x.id === a.id);
      if (!b) throw err("not_found", `There is no backend called ${a.id}`);
      return checkOf(s, b);
    }
    case "discover_models": {
      const b = s.backends.find((x) => x.id === a.id);
      if (!b) throw err("not_found", `There is no backend called ${a.id}`);
      const check = checkOf(s, b);
      if (!check.ok) throw err("upstream", check.message);
      return check.outcome.kind === "ok" ? check.outcome.models : [];
    }
    case "choose_litellm_file":
      // What the native open dialog returns (null: cancelled).
      return s.chosenLitellm;
    case "import_litellm_file":
      return importLitellm(s, String(a.path), (a.profile as string | null) ?? null, !!a.dryRun);
    case "list_profiles":
      return profileViews(s);
    case "save_profile": {
      const p = a.profile as ProfileView;
      if (!s.profiles[p.name]) throw err("not_found", `There is no profile called “${p.name}”.`);
      for (const [i, r] of p.rules.entries()) {
        if (!r.pattern.trim()) throw err("invalid_input", `Rule ${i + 1}: type the model name or pattern it matches.`);
        if (r.route.targets.length === 0) throw err("invalid_input", `Rule ${i + 1} (${r.pattern}): add at least one target.`);
        for (const t of [...r.route.targets, ...r.route.fallbacks]) {
          if (!s.backends.some((b) => b.id === t.backend)) throw err("invalid_input", `Rule ${i + 1} (${r.pattern}): there is no backend called “${t.backend}” any more; pick another.`);
        }
      }
      const route = (r: ProfileView["default"] & object) => ({ ...r, targets: targetsOf(r.targets), fallbacks: targetsOf(r.fallbacks) });
      s.profiles[p.name] = {
        rules: structuredClone(p.rules).map((r) => ({ ...r, route: route(r.route) })),
        default: p.default && route(structuredClone(p.default)),
      };
      return viewOf(s, p.name);
    }
    case "create_profile": {
      const name = String(a.name).trim();
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw err("invalid_input", "A profile name uses letters, digits, '-' or '_' (for example “work-local”).");
      if (s.profiles[name]) throw err("invalid_input", `There is already a profile called “${name}”.`);
      s.profiles[name] = { rules: [], default: null };
      return { name, active: false, rules: [], default: null } satisfies ProfileView;
    }
    case "delete_profile":
      delete s.profiles[a.name];
      return null;
    case "test_route": {
      if (failing) throw err("upstream", "The gateway at http://127.0.0.1:4747/v1/messages did not answer: connection refused");
      const p = s.profiles[s.active];
      const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*")}$`);
      // The test sends one line of text from the main agent: a condition holds only if such a
      // request meets it. Conditional rules first, like the engine.
      const plain = (w: When) => !w.images && !w.server_tools && !w.thinking && w.min_prompt_tokens == null && w.agent !== "subagent";
      const order = [...p.rules.keys()].sort((x, y) => Number(!p.rules[x].when) - Number(!p.rules[y].when));
      const i = order.find((k) => glob(p.rules[k].pattern).test(a.model) && (!p.rules[k].when || plain(p.rules[k].when!)));
      const rule = i === undefined ? undefined : p.rules[i];
      const label = rule ? `rule ${i! + 1}: ${rule.pattern}${rule.when ? " when …" : ""}` : "default route";
      const target = rule?.route.targets[0] ?? p.default?.targets[0];
      if (!target) return { ok: false, profile: s.active, requested_model: a.model, backend: null, upstream_model: null, attempts: 0, rule: null, latency_ms: 4, detail: `No route for model "${a.model}" in profile "${s.active}"` };
      return { ok: true, profile: s.active, requested_model: a.model, backend: target.backend, upstream_model: target.model ?? a.model, attempts: 1, rule: label, latency_ms: 312, detail: "ok" };
    }
    case "query_usage": {
      if (failing) throw err("io", "The usage database is locked by another process");
      const rows = s.rows.filter((r) => matches(r, a.filter)).sort((x, y) => y.started_at_ms - x.started_at_ms);
      return { rows: rows.slice(a.page * a.pageSize, (a.page + 1) * a.pageSize), total: rows.length, page: a.page, page_size: a.pageSize };
    }
    case "usage_summary":
      if (failing) throw err("io", "The usage database is locked by another process");
      // Like the store: aggregates come from rollups, which keep neither the columns the text
      // search reads nor sessions.
      return summarize(s, s.rows.filter((r) => matches(r, { ...a.filter, text: null, session_id: null })), a.filter);
    case "usage_sessions":
      if (failing) throw err("io", "The usage database is locked by another process");
      return sessionsOf(s.rows, a.filter, a.limit);
    case "choose_export_path":
      // What the native save dialog returns when the user accepts the proposed name.
      return `/home/dev/Documents/${a.defaultName ?? "switchyard-usage-2026-11-23-0905.csv"}`;
    case "export_usage_csv": {
      if (failing) throw err("io", `Cannot write the usage export to ${a.path}: No space left on device (os error 28)`);
      const text = !!a.filter.text?.trim();
      return { path: a.path, rows: s.rows.filter((r) => matches(r, { ...a.filter, text: null })).length, text_ignored: text };
    }
    case "setup_state": {
      const found = s.found.map((f) => ({ ...structuredClone(f), backend_id: s.backends.find((b) => rootUrl(b.base_url) === rootUrl(f.base_url))?.id ?? null }));
      return { first_run: s.firstRun, engines: found, tried: ["http://127.0.0.1:11434", "http://127.0.0.1:1234", "http://127.0.0.1:8000", "http://127.0.0.1:8080", "http://127.0.0.1:30000"] } satisfies SetupState;
    }
    case "add_found_engine": {
      const f = s.found.find((x) => rootUrl(x.base_url) === rootUrl(a.baseUrl));
      const root = rootUrl(a.baseUrl);
      const ollama = a.engine === "ollama";
      const info: BackendInfo = {
        id: uniqueId(f?.label ?? "OpenAI-compatible", s.backends.map((b) => b.id)), kind: ollama ? "ollama" : "openai_chat",
        base_url: ollama ? root : `${root}/v1`, region: null, project: null, api_key_env: null, key: "none", keys: [], context_length: null, max_output_tokens: null,
        timeout_first_byte_s: 300, max_in_flight: 0, local: isLocalUrl(root), local_declared: null, rpm: null, tpm: null,
      };
      s.backends.push(info);
      if (f) s.addedModels[info.id] = f.models.map((id) => ({ id, context_length: null }) as CheckedModel);
      return infoOf(s, info);
    }
    case "map_families": {
      const p = s.profiles[a.profile];
      if (!p) throw err("not_found", `There is no profile called “${a.profile}”.`);
      const models = a.models as FamilyModels;
      const missing: ProfileView["rules"] = [];
      for (const [pattern, model] of [["*opus*", models.opus], ["*sonnet*", models.sonnet], ["*haiku*", models.haiku]] as const) {
        if (!model) continue;
        const route = { strategy: "ordered" as const, targets: [{ backend: a.backend, model, weight: null }], fallbacks: [] };
        const rule = p.rules.find((r) => r.pattern === pattern);
        if (rule) rule.route = route;
        else missing.push({ pattern, route });
      }
      p.rules = [...missing, ...p.rules];
      return { name: a.profile, active: a.profile === s.active, rules: structuredClone(p.rules), default: structuredClone(p.default) } satisfies ProfileView;
    }
    case "get_settings":
      return structuredClone(s.settings);
    case "save_settings": {
      const i = a.input as SettingsInput;
      if (i.port < 1024) throw err("invalid_input", "Port must be 1024–65535 (lower ports need administrator rights).");
      if (i.retention_days !== null && (i.retention_days < 1 || i.retention_days > 3650))
        throw err("invalid_input", "Retention must be 1–3650 days, or keep the history forever.");
      const restart = i.port !== s.settings.port;
      const old = s.settings.retention_days;
      let deleted: number | null = null;
      if (i.retention_days !== null && (old === null || i.retention_days < old)) {
        const cutoff = Date.now() - i.retention_days * DAY;
        deleted = s.rows.filter((r) => r.started_at_ms < cutoff).length;
        s.rows = s.rows.filter((r) => r.started_at_ms >= cutoff);
      }
      s.settings = { ...s.settings, port: i.port, autostart: i.autostart, retention_days: i.retention_days, language: i.language, theme: i.theme };
      return { settings: structuredClone(s.settings), restart_needed: restart, retention_deleted: deleted };
    }
    case "get_local_token":
      return s.token;
    case "rotate_local_token":
      s.token = "sy-local-" + Math.random().toString(16).slice(2).padEnd(32, "0");
      return s.token;
    case "capture_status":
      // The engine's capture_status cannot fail (it reads memory).
      return captureStatusOf(s);
    case "start_capture": {
      if (!s.capturesAvailable) throw err("unavailable", "Captures are not available: Switchyard has no usage database to keep them in (see the usage history's message)");
      const minutes = Number(a.minutes);
      const requests = a.requests == null ? null : Number(a.requests);
      if (!(minutes >= 1 && minutes <= MAX_WINDOW_MINUTES) || requests === 0) throw err("invalid_input", "Choose how long to capture: between 1 minute and 24 hours");
      s.captureWindow = { until_ms: Date.now() + minutes * 60_000, left: requests };
      return captureStatusOf(s);
    }
    case "stop_capture":
      s.captureWindow = null;
      return captureStatusOf(s);
    case "get_capture": {
      if (!s.capturesAvailable) throw err("unavailable", "Captures are not available: Switchyard has no usage database to keep them in (see the usage history's message)");
      if (failing) throw err("io", "the capture database failed: database is locked");
      const c = s.captures[a.id];
      if (!c) throw err("not_found", `there is no capture ${a.id} (it may have passed its retention, or been deleted)`);
      return structuredClone(c);
    }
    case "delete_captures": {
      if (failing) throw err("io", "the capture database failed: database is locked");
      // Like the engine: the usage rows keep their capture_id.
      if (a.id == null) {
        const n = Object.keys(s.captures).length;
        s.captures = {};
        return n;
      }
      if (!(a.id in s.captures)) return 0;
      delete s.captures[a.id];
      return 1;
    }
    case "replay_capture":
      return replay(s, String(a.id), a.to as ReplayTo, failing);
    default:
      throw err("unavailable", `Unknown command ${cmd}`);
  }
}

export function newRow(s: FakeState, partial: Partial<RequestRow> = {}): RequestRow {
  const id = Math.max(0, ...s.rows.map((r) => r.id ?? 0)) + 1;
  const row: RequestRow = { ...mkRow(Date.now(), 0), id, started_at_ms: Date.now(), ...partial, capture_id: null };
  // Captured when its profile captures everything or the capture window is open.
  if (takeCapture(s, row.profile, row.started_at_ms)) {
    const capture = captureOfRow(row, id);
    s.captures[capture.id] = capture;
    row.capture_id = capture.id;
  }
  s.rows.unshift(row);
  return row;
}

export type { RequestStatus };
