// The request inspector's side of the fake engine (see fake-engine.ts): captures as the engine
// stores them (crates/switchyard-core/src/capture/record.rs), credentials redacted the way
// redact.rs does, and replay answers shaped like proxy/replay.rs's. Seeded with three:
//  - a 88 KB Claude Code request (the token estimate's fixture, sent compact as Claude Code does)
//    translated for Ollama and streamed back, with every chunk's arrival time;
//  - a small streamed pass-through to Anthropic;
//  - a request whose first target was down (an attempt that failed, then the fallback).
import type { Attempt, Capture, Header, RequestRow, TimedChunk } from "../bindings";
import claudeCodeRequest from "./fixtures/claude-code-90kb.json?raw";

/** What the engine writes instead of a credential's value. */
export const REDACTED = "[redacted]";

/** The body Claude Code sends (compact JSON; the fixture is indented for people). */
export const CLAUDE_CODE_BODY = JSON.stringify(JSON.parse(claudeCodeRequest));

/** Like the engine's `new_id`: the start in ms as 11 hex digits, then 8 random ones. */
export function captureId(ms: number, salt: number): string {
  const random = (Math.imul(salt + 1, 2654435761) >>> 0).toString(16).padStart(8, "0");
  return `${Math.max(0, Math.floor(ms)).toString(16).padStart(11, "0")}${random}`;
}

const ANTHROPIC_URL = "https://api.anthropic.com";

/** What Claude Code sends with each request (its local token redacted by the engine). */
function claudeCodeHeaders(session: string | null, body: string): Header[] {
  return [
    { name: "host", value: "127.0.0.1:4747" },
    { name: "x-api-key", value: REDACTED },
    { name: "anthropic-version", value: "2023-06-01" },
    { name: "anthropic-beta", value: "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27" },
    { name: "anthropic-dangerous-direct-browser-access", value: "true" },
    { name: "content-type", value: "application/json" },
    { name: "accept", value: "application/json" },
    { name: "user-agent", value: "claude-cli/2.1.30 (external, cli)" },
    { name: "x-app", value: "cli" },
    ...(session ? [{ name: "x-claude-code-session-id", value: session }] : []),
    { name: "x-stainless-lang", value: "js" },
    { name: "x-stainless-runtime", value: "node" },
    { name: "x-stainless-runtime-version", value: "v22.11.0" },
    { name: "x-stainless-retry-count", value: "0" },
    { name: "content-length", value: String(new TextEncoder().encode(body).length) },
  ];
}

/** The pass-through's headers upstream: the key in `x-api-key` (redacted), the client's
 *  `anthropic-*` headers forwarded. */
function anthropicHeaders(client: Header[], body: string): Header[] {
  return [
    { name: "x-api-key", value: REDACTED },
    ...client.filter((h) => h.name.startsWith("anthropic-")),
    { name: "content-type", value: "application/json" },
    { name: "content-length", value: String(new TextEncoder().encode(body).length) },
  ];
}

/** An Anthropic request translated for Ollama's /api/chat, as the engine's ollama backend does:
 *  the system prompt first (Claude Code's billing line left out), blocks as text, tools as
 *  functions, the output budget as num_predict. */
export function toOllama(body: string, model: string, numCtx: number): string {
  const req = JSON.parse(body) as {
    system?: string | { type: string; text: string }[];
    messages: { role: string; content: string | { type: string; text?: string }[] }[];
    tools?: { name: string; description?: string; input_schema: unknown }[];
    max_tokens: number;
    stream?: boolean;
    thinking?: { type: string };
  };
  const system = typeof req.system === "string"
    ? req.system
    : (req.system ?? []).map((b) => b.text).filter((s) => !s.startsWith("x-anthropic-billing-header")).join("\n\n");
  const text = (c: string | { type: string; text?: string }[]) =>
    typeof c === "string" ? c : c.filter((b) => b.type === "text").map((b) => b.text ?? "").join("\n\n");
  return JSON.stringify({
    model,
    messages: [...(system ? [{ role: "system", content: system }] : []), ...req.messages.map((m) => ({ role: m.role, content: text(m.content) }))],
    tools: (req.tools ?? []).map((t) => ({ type: "function", function: { name: t.name, description: t.description, parameters: t.input_schema } })),
    stream: req.stream ?? false,
    ...(req.thinking?.type === "enabled" ? { think: true } : {}),
    options: { num_ctx: numCtx, num_predict: Math.min(req.max_tokens, 8192) },
    keep_alive: "30m",
    truncate: false,
  });
}

/** Words of an answer, split as a model streams them. */
function pieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [text];
}

/** An Anthropic SSE stream of a text answer, one event per chunk, `gap` ms apart from `t0`. */
export function anthropicStream(model: string, text: string, input: number, output: number, t0: number, gap: number): TimedChunk[] {
  const ev = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  const out: TimedChunk[] = [];
  let at = t0;
  const push = (data: string) => {
    out.push({ at_ms: Math.round(at * 10) / 10, data });
    at += gap * (0.75 + ((out.length * 37) % 50) / 100);
  };
  push(ev("message_start", { type: "message_start", message: { id: "msg_01XkqR7c2b", type: "message", role: "assistant", model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: input, output_tokens: 1 } } })
    + ev("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }));
  for (const p of pieces(text)) push(ev("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: p } }));
  push(ev("content_block_stop", { type: "content_block_stop", index: 0 })
    + ev("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: output } })
    + ev("message_stop", { type: "message_stop" }));
  return out;
}

/** Ollama's NDJSON stream of the same answer. */
function ollamaStream(model: string, text: string, input: number, output: number, t0: number, gap: number): TimedChunk[] {
  const created = "2026-11-23T09:05:12.301Z";
  const out: TimedChunk[] = [];
  let at = t0;
  for (const p of pieces(text)) {
    out.push({ at_ms: Math.round(at * 10) / 10, data: `${JSON.stringify({ model, created_at: created, message: { role: "assistant", content: p }, done: false })}\n` });
    at += gap * (0.8 + ((out.length * 29) % 40) / 100);
  }
  out.push({
    at_ms: Math.round(at * 10) / 10,
    data: `${JSON.stringify({ model, created_at: created, message: { role: "assistant", content: "" }, done: true, done_reason: "stop", total_duration: Math.round(at * 1e6), prompt_eval_count: input, eval_count: output })}\n`,
  });
  return out;
}

/** The whole answer a JSON client gets. */
function messageJson(model: string, text: string, input: number, output: number): string {
  return JSON.stringify({
    id: "msg_01Hq8TzXw3", type: "message", role: "assistant", model, content: [{ type: "text", text }],
    stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: input, output_tokens: output },
  });
}

/** The gap between chunks that ends a stream of `text` begun at `t0` near `total` ms. */
function gapFor(total: number, t0: number, text: string): number {
  return Math.max(1, (total - t0 - 8) / (pieces(text).length + 2));
}

const ANSWER_A = "I'll start with the handler: count_tokens builds its answer from the estimate, so a 0 there means the estimate never saw the messages. Let me read src/proxy/count.rs first.";
const ANSWER_B = "The failing test expects the stream to end with message_stop, but the relay closes it after the last content_block_stop. Adding the missing event fixes it.";
const ANSWER_C = "Fix count_tokens answering 0 for every request";

/** The seeded captures, linked to the newest rows (which are made to agree with them). */
export function seedCaptures(rows: RequestRow[]): Record<string, Capture> {
  const out: Record<string, Capture> = {};
  const [a, c, b] = rows;
  if (!a || !b || !c) return out;

  // A: Claude Code's 88 KB request, routed by *sonnet* to Ollama, streamed.
  {
    const input = 21_874;
    const output = 61;
    const upstreamBody = toOllama(CLAUDE_CODE_BODY, "qwen2.5-coder:7b", 32768);
    // Chunks spread so the stream ends when the row says the request did.
    const gap = gapFor(a.latency_ms, 412.7, ANSWER_A);
    const upstreamChunks = ollamaStream("qwen2.5-coder:7b", ANSWER_A, input, output, 412.7, gap);
    const clientChunks = anthropicStream("claude-sonnet-4-5", ANSWER_A, input, output, 413.1, gap);
    const total = a.latency_ms;
    const id = captureId(a.started_at_ms, 1);
    const client = claudeCodeHeaders(a.session_id, CLAUDE_CODE_BODY);
    out[id] = {
      id, started_at_ms: a.started_at_ms, profile: "local", requested_model: "claude-sonnet-4-5", stream: true,
      rule: "rule 2: *sonnet*", notes: null, status: "ok", input_tokens: input, output_tokens: output,
      client_request: { method: "POST", path: "/v1/messages?beta=true", headers: client, body: CLAUDE_CODE_BODY },
      attempts: [{
        backend: "ollama", kind: "ollama", upstream_model: "qwen2.5-coder:7b", key_name: null, started_ms: 2.3, queue_ms: 0.4,
        url: "http://127.0.0.1:11434/api/chat",
        headers: [{ name: "content-type", value: "application/json" }, { name: "accept", value: "application/x-ndjson" }],
        body: upstreamBody,
        response: { status: 200, headers: [{ name: "content-type", value: "application/x-ndjson" }, { name: "date", value: "Mon, 23 Nov 2026 09:05:12 GMT" }, { name: "transfer-encoding", value: "chunked" }], body: "", chunks: upstreamChunks },
        error: null, next: null,
      }],
      client_response: { status: 200, body: "", chunks: clientChunks },
      timings: { queue_ms: 0.4, ttfb_ms: 412.7, total_ms: total, output_tokens_per_s: Math.round((output / ((total - 412.7) / 1000)) * 10) / 10 },
    };
    Object.assign(a, { capture_id: id, input_tokens: input, output_tokens: output, ttft_ms: 413, stream: true });
  }

  // B: a small request passed through to Anthropic unchanged, streamed.
  {
    const body = JSON.stringify({
      model: "claude-opus-4-1", max_tokens: 4096, stream: true,
      system: [{ type: "text", text: "You are a test triage agent. Answer in two sentences." }],
      messages: [{ role: "user", content: "Why does relay::tests::stream_ends_with_message_stop fail?\n\nthread 'relay::tests::stream_ends_with_message_stop' panicked: expected message_stop as the last event, got content_block_stop" }],
    });
    const input = 96;
    const output = 38;
    const id = captureId(b.started_at_ms, 2);
    const client = claudeCodeHeaders(b.session_id, body);
    const upstreamChunks = anthropicStream("claude-opus-4-1", ANSWER_B, input, output, 688.2, gapFor(b.latency_ms, 688.2, ANSWER_B));
    const clientChunks = upstreamChunks.map((ch) => ({ at_ms: Math.round((ch.at_ms + 0.3) * 10) / 10, data: ch.data }));
    const total = b.latency_ms;
    out[id] = {
      id, started_at_ms: b.started_at_ms, profile: "cloud", requested_model: "claude-opus-4-1", stream: true,
      rule: "default route", notes: null, status: "ok", input_tokens: input, output_tokens: output,
      client_request: { method: "POST", path: "/v1/messages?beta=true", headers: client, body },
      attempts: [{
        backend: "anthropic", kind: "anthropic", upstream_model: "claude-opus-4-1", key_name: "default", started_ms: 1.1, queue_ms: 0,
        url: `${ANTHROPIC_URL}/v1/messages?beta=true`, headers: anthropicHeaders(client, body), body,
        response: {
          status: 200,
          headers: [
            { name: "content-type", value: "text/event-stream; charset=utf-8" }, { name: "request-id", value: "req_011CVx7rQz2f" },
            { name: "anthropic-ratelimit-requests-remaining", value: "49" }, { name: "set-cookie", value: REDACTED },
          ],
          body: "", chunks: upstreamChunks,
        },
        error: null, next: null,
      }],
      client_response: { status: 200, body: "", chunks: clientChunks },
      timings: { queue_ms: 0, ttfb_ms: 688.2, total_ms: total, output_tokens_per_s: Math.round((output / ((total - 688.2) / 1000)) * 10) / 10 },
    };
    Object.assign(b, { capture_id: id, input_tokens: input, output_tokens: output, ttft_ms: 688, attempts: 1 });
  }

  // C: the haiku rule's local target was down; the fallback to Anthropic answered (whole JSON).
  {
    const body = JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 512, messages: [{ role: "user", content: "Write a one-line commit message for: fix count_tokens returning 0" }] });
    const input = 24;
    const output = 11;
    const id = captureId(c.started_at_ms, 3);
    // This Claude Code sends the local token as a bearer token (ANTHROPIC_AUTH_TOKEN).
    const client = claudeCodeHeaders(c.session_id, body).map((h) => (h.name === "x-api-key" ? { name: "authorization", value: REDACTED } : h));
    const answer = messageJson("claude-haiku-4-5", ANSWER_C, input, output);
    const failed: Attempt = {
      backend: "llamacpp", kind: "openai_chat", upstream_model: "qwen2.5-coder:1.5b", key_name: null, started_ms: 0.9, queue_ms: 0,
      url: "http://127.0.0.1:8080/v1/chat/completions",
      headers: [{ name: "content-type", value: "application/json" }],
      body: JSON.stringify({ model: "qwen2.5-coder:1.5b", messages: [{ role: "user", content: "Write a one-line commit message for: fix count_tokens returning 0" }], max_tokens: 512, stream: false }),
      response: null,
      error: 'Switchyard could not reach backend "llamacpp" at http://127.0.0.1:8080/v1 (connection refused or unreachable). Is it running?',
      next: "the next target",
    };
    out[id] = {
      id, started_at_ms: c.started_at_ms, profile: "local", requested_model: "claude-haiku-4-5", stream: false,
      rule: "rule 1: *haiku*", notes: null, status: "ok", input_tokens: input, output_tokens: output,
      client_request: { method: "POST", path: "/v1/messages", headers: client, body },
      attempts: [failed, {
        backend: "anthropic", kind: "anthropic", upstream_model: "claude-haiku-4-5", key_name: "team", started_ms: 3.4, queue_ms: 0,
        url: `${ANTHROPIC_URL}/v1/messages`, headers: anthropicHeaders(client, body), body,
        response: { status: 200, headers: [{ name: "content-type", value: "application/json" }, { name: "request-id", value: "req_011CVx7sA91k" }], body: answer, chunks: [] },
        error: null, next: null,
      }],
      client_response: { status: 200, body: answer, chunks: [] },
      timings: { queue_ms: 0, ttfb_ms: c.latency_ms - 6.7, total_ms: c.latency_ms, output_tokens_per_s: null },
    };
    const cost = (input * 1 + output * 5) / 1_000_000;
    Object.assign(c, {
      capture_id: id, backend: "anthropic", backend_kind: "anthropic", upstream_model: "claude-haiku-4-5", local: false, attempts: 2,
      input_tokens: input, output_tokens: output, cost_usd: cost, cloud_equiv_usd: cost, key_name: "team", stream: false,
      status: "ok", http_status: 200, error_type: null, error_message: null, ttft_ms: c.latency_ms - 7, cache_read_tokens: 0,
    });
  }
  return out;
}

/** A capture of a request the fake "answered" (a row pushed while capture is on). */
export function captureOfRow(row: RequestRow, salt: number): Capture {
  const body = JSON.stringify({ model: row.requested_model, max_tokens: 1024, stream: true, messages: [{ role: "user", content: "Say hello from the capture window." }] });
  const client = claudeCodeHeaders(row.session_id, body);
  const backend = row.backend ?? "ollama";
  const model = row.upstream_model ?? row.requested_model;
  const text = `Hello from ${backend}.`;
  const chunks = anthropicStream(row.requested_model, text, row.input_tokens, row.output_tokens, 180, 20);
  const upstream = backend === "anthropic" ? body.replace(JSON.stringify(row.requested_model), JSON.stringify(model)) : toOllama(body, model, 32768);
  const id = captureId(row.started_at_ms, salt);
  return {
    id, started_at_ms: row.started_at_ms, profile: row.profile, requested_model: row.requested_model, stream: true, rule: row.rule,
    notes: row.notes, status: row.status, input_tokens: row.input_tokens, output_tokens: row.output_tokens,
    client_request: { method: "POST", path: "/v1/messages", headers: client, body },
    attempts: [{
      backend, kind: row.backend_kind ?? "ollama", upstream_model: model, key_name: row.key_name, started_ms: 0.8, queue_ms: 0,
      url: backend === "anthropic" ? `${ANTHROPIC_URL}/v1/messages` : "http://127.0.0.1:11434/api/chat",
      headers: backend === "anthropic" ? anthropicHeaders(client, upstream) : [{ name: "content-type", value: "application/json" }],
      body: upstream,
      response: { status: 200, headers: [{ name: "content-type", value: "text/event-stream" }], body: "", chunks },
      error: null, next: null,
    }],
    client_response: { status: 200, body: "", chunks },
    timings: { queue_ms: 0, ttfb_ms: 180, total_ms: chunks[chunks.length - 1].at_ms + 1, output_tokens_per_s: 42.5 },
  };
}

/** The text a client got, as the engine's replay reads it (text deltas joined, or the JSON's
 *  text blocks). */
export function answerText(c: Capture): string {
  if (c.client_response.chunks.length > 0) {
    let out = "";
    for (const ch of c.client_response.chunks) {
      for (const m of ch.data.matchAll(/^data: (.*)$/gm)) {
        const ev = JSON.parse(m[1]) as { type: string; delta?: { type: string; text?: string } };
        if (ev.type === "content_block_delta" && ev.delta?.type === "text_delta") out += ev.delta.text ?? "";
      }
    }
    return out;
  }
  try {
    const body = JSON.parse(c.client_response.body) as { content?: { type: string; text?: string }[]; error?: { message: string } };
    return body.content ? body.content.filter((b) => b.type === "text").map((b) => b.text).join("") : body.error?.message ?? "";
  } catch {
    return c.client_response.body;
  }
}
