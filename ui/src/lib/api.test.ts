import { describe, expect, it } from "vitest";
import { AppError, call, toCommandError } from "./api";

describe("call", () => {
  it("returns the data of an ok result", async () => {
    await expect(call(Promise.resolve({ status: "ok" as const, data: 7 }))).resolves.toBe(7);
  });
  it("throws an AppError carrying the command's kind and message", async () => {
    const p = call(Promise.resolve({ status: "error" as const, error: { kind: "keychain" as const, message: "locked" } }));
    await expect(p).rejects.toBeInstanceOf(AppError);
    await expect(p).rejects.toMatchObject({ kind: "keychain", message: "locked" });
  });
  it("normalises Tauri's own string rejections", async () => {
    const p = call(Promise.reject("command foo not found"));
    await expect(p).rejects.toMatchObject({ kind: "engine", message: "command foo not found" });
    expect(toCommandError(new Error("boom"))).toEqual({ kind: "engine", message: "boom" });
  });
});
