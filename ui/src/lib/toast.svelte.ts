export type ToastKind = "ok" | "error" | "info";
export interface Toast {
  id: number;
  kind: ToastKind;
  text: string;
}

let next = 1;
export const toasts = $state<Toast[]>([]);

export function toast(text: string, kind: ToastKind = "ok", ms = 4000) {
  const id = next++;
  toasts.push({ id, kind, text });
  setTimeout(() => dismiss(id), kind === "error" ? ms * 2 : ms);
}

export function dismiss(id: number) {
  const i = toasts.findIndex((t) => t.id === id);
  if (i >= 0) toasts.splice(i, 1);
}
