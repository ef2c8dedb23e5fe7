// PROVISIONAL hand-written copy; replaced by the tauri-specta export.
// @ts-nocheck

export const commands = {
async getStatus() : Promise<Result<GatewayStatus, CommandError>> { return call("get_status") },
async setActiveProfile(name: string) : Promise<Result<GatewayStatus, CommandError>> { return call("set_active_profile", { name }) },
async setPaused(paused: boolean) : Promise<Result<GatewayStatus, CommandError>> { return call("set_paused", { paused }) },
async recentRequests(limit: number) : Promise<Result<RequestRow[], CommandError>> { return call("recent_requests", { limit }) },
async claudeCodeEnv() : Promise<Result<ClaudeEnv, CommandError>> { return call("claude_code_env") },
async copyClaudeCodeEnv() : Promise<Result<null, CommandError>> { return call("copy_claude_code_env") },
async claudeCodeStatus() : Promise<Result<ClaudeCodeStatus, CommandError>> { return call("claude_code_status") },
async configureClaudeCode() : Promise<Result<ClaudeCodeStatus, CommandError>> { return call("configure_claude_code") },
async restoreClaudeCode() : Promise<Result<ClaudeCodeStatus, CommandError>> { return call("restore_claude_code") },
async listBackends() : Promise<Result<BackendView[], CommandError>> { return call("list_backends") },
async saveBackend(input: BackendInput, originalId: string | null) : Promise<Result<BackendView, CommandError>> { return call("save_backend", { input, originalId }) },
async deleteBackend(id: string) : Promise<Result<null, CommandError>> { return call("delete_backend", { id }) },
async setBackendKey(id: string, key: string) : Promise<Result<BackendView, CommandError>> { return call("set_backend_key", { id, key }) },
async deleteBackendKey(id: string) : Promise<Result<BackendView, CommandError>> { return call("delete_backend_key", { id }) },
async testBackend(id: string) : Promise<Result<BackendTestResult, CommandError>> { return call("test_backend", { id }) },
async discoverModels(id: string) : Promise<Result<DiscoveredModel[], CommandError>> { return call("discover_models", { id }) },
async listProfiles() : Promise<Result<ProfileView[], CommandError>> { return call("list_profiles") },
async saveProfile(profile: ProfileView) : Promise<Result<ProfileView, CommandError>> { return call("save_profile", { profile }) },
async deleteProfile(name: string) : Promise<Result<null, CommandError>> { return call("delete_profile", { name }) },
async testRoute(model: string) : Promise<Result<RouteTestResult, CommandError>> { return call("test_route", { model }) },
async queryUsage(filter: UsageFilter, page: number, pageSize: number) : Promise<Result<UsagePage, CommandError>> { return call("query_usage", { filter, page, pageSize }) },
async usageSummary(filter: UsageFilter) : Promise<Result<UsageSummary, CommandError>> { return call("usage_summary", { filter }) },
async exportUsageCsv(filter: UsageFilter) : Promise<Result<ExportResult, CommandError>> { return call("export_usage_csv", { filter }) },
async getSettings() : Promise<Result<Settings, CommandError>> { return call("get_settings") },
async saveSettings(input: SettingsInput) : Promise<Result<SaveSettingsResult, CommandError>> { return call("save_settings", { input }) },
async getLocalToken() : Promise<Result<string, CommandError>> { return call("get_local_token") },
async rotateLocalToken() : Promise<Result<string, CommandError>> { return call("rotate_local_token") },
}

async function call(cmd: string, args?: any) {
  try { return { status: "ok", data: await TAURI_INVOKE(cmd, args) }; }
  catch (e) { if (e instanceof Error) throw e; else return { status: "error", error: e as any }; }
}

export const events = __makeEvents__<{
requestFinished: RequestFinished,
statusChanged: StatusChanged
}>({
requestFinished: "request-finished",
statusChanged: "status-changed"
})

export type BackendInput = { id: string; kind: Kind; base_url: string; api_key_env: string | null; context_length: number | null; max_output_tokens: number | null }
export type BackendTestResult = { ok: boolean; latency_ms: number; message: string; models: DiscoveredModel[] }
export type BackendView = { id: string; kind: Kind; base_url: string; api_key_env: string | null; key: KeySource; context_length: number | null; max_output_tokens: number | null; timeout_first_byte_s: number; max_in_flight: number; local: boolean }
export type ClaudeCodeStatus = { settings_path: string; configured: boolean; has_backup: boolean; conflicts: Conflict[] }
export type ClaudeEnv = { vars: EnvVar[]; shell: string }
export type CommandError = { kind: ErrorKind; message: string }
export type Conflict = { name: string; message: string }
export type DayPoint = { day: string; totals: Totals }
export type DiscoveredModel = { id: string; context_length: number | null }
export type EnvVar = { name: string; value: string }
export type ErrorKind = "invalid_input" | "not_found" | "keychain" | "upstream" | "io" | "unavailable" | "engine"
export type ExportResult = { path: string; rows: number }
export type GatewayStatus = { listen_addr: string; base_url: string; active_profile: string; profiles: string[]; paused: boolean; requests_today: number; errors_today: number; tokens_today: number; cost_today_usd: number; last_error: string | null; config_path: string; version: string; tray_host: boolean }
export type KeySource = "keychain" | "env" | "none"
export type Kind = "anthropic" | "openai_chat" | "ollama"
export type Language = "system" | "en" | "zh_cn"
export type ProfileView = { name: string; active: boolean; rules: RuleView[]; default: RouteView | null }
export type RequestFinished = { row: RequestRow }
export type RequestRow = { started_at_ms: number; client: string | null; requested_model: string; profile: string; backend: string | null; backend_kind: string | null; upstream_model: string | null; stream: boolean; status: RowStatus; http_status: number; error_type: string | null; error_message: string | null; input_tokens: number; output_tokens: number; cache_read_tokens: number; cache_write_tokens: number; ttft_ms: number | null; latency_ms: number; attempts: number; cost_usd: number | null; cloud_equivalent_usd: number | null; local: boolean }
export type RouteTestResult = { ok: boolean; profile: string; requested_model: string; backend: string | null; upstream_model: string | null; latency_ms: number; detail: string }
export type RouteView = { targets: TargetView[]; fallbacks: TargetView[] }
export type RowStatus = "ok" | "error" | "cancelled"
export type RuleView = { pattern: string; route: RouteView }
export type SaveSettingsResult = { settings: Settings; restart_needed: boolean }
export type Settings = { port: number; listen_addr: string; autostart: boolean; capture_requests: boolean; retention_days: number; language: Language; config_path: string }
export type SettingsInput = { port: number; autostart: boolean; capture_requests: boolean; retention_days: number; language: Language }
export type Slice = { label: string; local: boolean; totals: Totals }
export type StatusChanged = { status: GatewayStatus }
export type TargetView = { backend: string; model: string | null; weight: number | null }
export type Totals = { requests: number; errors: number; input_tokens: number; output_tokens: number; cost_usd: number; cloud_equivalent_usd: number }
export type UsageFilter = { since_ms: number | null; until_ms: number | null; text: string | null; profile: string | null; backend: string | null; status: RowStatus | null }
export type UsagePage = { rows: RequestRow[]; total: number; page: number; page_size: number }
export type UsageSummary = { total: Totals; local: Totals; cloud: Totals; savings_usd: number; per_day: DayPoint[]; by_model: Slice[]; by_backend: Slice[] }

import { invoke as TAURI_INVOKE } from "@tauri-apps/api/core";
import * as TAURI_API_EVENT from "@tauri-apps/api/event";
import { type WebviewWindow as __WebviewWindow__ } from "@tauri-apps/api/webviewWindow";

type __EventObj__<T> = {
  listen: (cb: TAURI_API_EVENT.EventCallback<T>) => ReturnType<typeof TAURI_API_EVENT.listen<T>>;
  once: (cb: TAURI_API_EVENT.EventCallback<T>) => ReturnType<typeof TAURI_API_EVENT.once<T>>;
  emit: null extends T ? (payload?: T) => ReturnType<typeof TAURI_API_EVENT.emit> : (payload: T) => ReturnType<typeof TAURI_API_EVENT.emit>;
};

export type Result<T, E> = | { status: "ok"; data: T } | { status: "error"; error: E };

function __makeEvents__<T extends Record<string, any>>(mappings: Record<keyof T, string>) {
  return new Proxy({} as unknown as { [K in keyof T]: __EventObj__<T[K]> & { (handle: __WebviewWindow__): __EventObj__<T[K]> } }, {
    get: (_, event) => {
      const name = mappings[event as keyof T];
      return new Proxy((() => {}) as any, {
        apply: (_, __, [window]: [__WebviewWindow__]) => ({
          listen: (arg: any) => window.listen(name, arg),
          once: (arg: any) => window.once(name, arg),
          emit: (arg: any) => window.emit(name, arg),
        }),
        get: (_, command: keyof __EventObj__<any>) => {
          switch (command) {
            case "listen": return (arg: any) => TAURI_API_EVENT.listen(name, arg);
            case "once": return (arg: any) => TAURI_API_EVENT.once(name, arg);
            case "emit": return (arg: any) => TAURI_API_EVENT.emit(name, arg);
          }
        },
      });
    },
  });
}
