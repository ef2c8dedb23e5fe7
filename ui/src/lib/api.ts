import { commands, events, type BackendField, type CommandError, type ProblemKind, type FormField, type Result } from "../bindings";

/** A failed command, as thrown by `call`. `kind` lets screens pick a specific message. */
export class AppError extends Error {
  readonly kind: ProblemKind;
  /** The form field at fault, when the engine could tell. */
  readonly field: FormField | null;
  constructor(e: CommandError) {
    super(e.message);
    this.kind = e.kind;
    this.field = e.field ?? null;
  }
}

/** Normalises whatever the IPC layer rejected with (our CommandError, or Tauri's own strings). */
export function toCommandError(e: unknown): CommandError {
  if (e && typeof e === "object" && "kind" in e && "message" in e) return e as CommandError;
  if (e instanceof Error) return { kind: "engine", message: e.message };
  if (typeof e === "string") return { kind: "engine", message: e };
  return { kind: "engine", message: "Unknown error" };
}

/** Turns a generated `Result` into a value or a thrown AppError. */
export async function call<T>(p: Promise<Result<T, CommandError>>): Promise<T> {
  let r: Result<T, CommandError>;
  try {
    r = await p;
  } catch (e) {
    throw new AppError(toCommandError(e));
  }
  if (r.status === "ok") return r.data;
  throw new AppError(toCommandError(r.error));
}

export function errorMessage(e: unknown): string {
  return e instanceof AppError || e instanceof Error ? e.message : toCommandError(e).message;
}

export { commands, events };

/** Turns a pending `listen()` into a synchronous disposer for onMount cleanups. Unlistening
 *  can fail when the webview is going away; there is nothing left to clean up then. */
export function disposer(...pending: Promise<() => unknown>[]): () => void {
  return () => {
    for (const p of pending) {
      p.then((unlisten) => Promise.resolve(unlisten())).catch(() => {
        /* already gone */
      });
    }
  };
}

const BACKEND_FIELDS: readonly string[] = ["id", "kind", "base_url", "api_key_env", "api_key", "context_length", "max_output_tokens", "rpm", "tpm", "key_name", "region", "project"] satisfies BackendField[];

/** Whether an engine error's field belongs to the backend form. */
export function isBackendField(f: FormField): f is BackendField {
  return BACKEND_FIELDS.includes(f);
}
