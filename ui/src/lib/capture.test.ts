import { describe, expect, it } from "vitest";
import { captureStartMs, curlCommand, keyVariable, nextKey, replayNoteKey } from "./capture";

// Node's child_process, typed here: the UI's TypeScript setup has no Node types.
type ExecFileSync = (file: string, args: string[], options: { env: Record<string, string> }) => { toString(): string };
const childProcess = "node:child_process";
const { execFileSync } = (await import(/* @vite-ignore */ childProcess)) as { execFileSync: ExecFileSync };

/** Runs a copied command in bash with `curl` replaced by a function that prints each argument
 *  on a line of its own (NUL-separated), and `$ALPHA_API_KEY` set: what curl would get. */
function runCurl(command: string, env: Record<string, string> = {}): string[] {
  const script = `curl() { printf '%s\\0' "$@"; }\n${command}`;
  const out = execFileSync("bash", ["--norc", "--noprofile", "-c", script], { env: { PATH: "/usr/local/bin:/usr/bin:/bin", ...env } }).toString();
  return out.split("\0").slice(0, -1);
}

describe("curlCommand", () => {
  const body = `{"model":"m","messages":[{"role":"user","content":"it's \\"quoted\\" and $HOME stays"}]}`;
  const attempt = {
    backend: "alpha",
    url: "https://api.example.com/v1/messages?beta=true",
    headers: [
      { name: "x-api-key", value: "[redacted]" },
      { name: "anthropic-version", value: "2023-06-01" },
      { name: "content-length", value: "123" },
      { name: "x-note", value: "o'clock" },
    ],
    body,
  };

  it("sends the URL, the headers and the exact body, a key only from the variable it names", () => {
    const command = curlCommand(attempt, (v) => `set ${v} first`);
    expect(command.startsWith("# set $ALPHA_API_KEY first\n")).toBe(true);
    expect(command).not.toContain("[redacted]");
    const args = runCurl(command, { ALPHA_API_KEY: "sk-from-the-shell" });
    expect(args).toEqual([
      "-X", "POST", "https://api.example.com/v1/messages?beta=true",
      "-H", "x-api-key: sk-from-the-shell",
      "-H", "anthropic-version: 2023-06-01",
      "-H", "x-note: o'clock",
      "--data-raw", body,
    ]);
  });

  it("writes a bearer token for a redacted authorization header and no comment when nothing was redacted", () => {
    const bearer = curlCommand({ ...attempt, backend: "my-openai", headers: [{ name: "authorization", value: "[redacted]" }] }, (v) => v);
    expect(runCurl(bearer, { MY_OPENAI_API_KEY: "k" })).toContain("authorization: Bearer k");
    const open = curlCommand({ ...attempt, headers: [{ name: "content-type", value: "application/json" }] }, () => "unused");
    expect(open.startsWith("curl -X POST")).toBe(true);
    expect(runCurl(open).at(-1)).toBe(body);
  });

  it("names the key variable after the backend", () => {
    expect(keyVariable("anthropic")).toBe("ANTHROPIC_API_KEY");
    expect(keyVariable("my-vllm.2")).toBe("MY_VLLM_2_API_KEY");
    expect(keyVariable("42cloud")).toBe("KEY_42CLOUD_API_KEY");
  });
});

describe("engine words", () => {
  it("knows what the gateway does after a failed attempt, and leaves other words as they are", () => {
    expect(nextKey("the next target")).toBe("inspector.next.target");
    expect(nextKey("the next key of the pool")).toBe("inspector.next.key");
    expect(nextKey("answered the client with this error")).toBe("inspector.next.stop");
    expect(nextKey("retried on this backend, then the next target")).toBe("inspector.next.retried");
    expect(nextKey("something new")).toBeNull();
    expect(replayNoteKey("The original was streamed; the replay asks for the whole answer at once, so its latency is the full answer's")).toBe("inspector.replay.streamNote");
  });
  it("reads a capture's start from its id", () => {
    expect(captureStartMs(`${(1_764_000_000_123).toString(16).padStart(11, "0")}0badcafe`)).toBe(1_764_000_000_123);
    expect(captureStartMs("not-an-id")).toBeNull();
  });
});
