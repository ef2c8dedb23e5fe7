"""A scripted fake of an OpenAI Chat Completions server or of Ollama's native API, for the
end-to-end suites that drive real clients (Claude Code, the Anthropic SDK) through
`switchyard serve` to a translating backend.

    python3 fake_llm.py --style vllm|openai|ollama --record FILE [--write-path P --write-content C]
                        [--final-text T] [--context-length N]

Prints `listening on http://127.0.0.1:PORT` once ready. Every request body it receives is
appended to FILE as one JSON line ({"path": ..., "body": ...}).

The script, per request:
- the last message carries tool results  -> a final text (--final-text);
- a tool named `get_weather` is offered   -> two parallel calls of it (Paris, 東京);
- a tool named `Write` is offered          -> one `Write` call (--write-path, --write-content);
- otherwise                                -> a short text.

Streaming follows the chunking of real servers: `vllm` sends the role first, one token per
chunk, a tool call's id and name first and its arguments in small fragments, and a final usage
chunk; `openai` sends `content: null` deltas and splits the raw bytes of some events mid-UTF-8
character across writes; `ollama` streams NDJSON with tool calls as whole objects in one
message and `done_reason: "stop"` even after a tool call.
"""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROMPT_TOKENS = 1234
CACHED_TOKENS = 1000
COMPLETION_TOKENS = 42
WEATHER_CITIES = ["Paris", "東京"]

args = None
record_lock = threading.Lock()


def record(path, body):
    with record_lock, open(args.record, "a", encoding="utf-8") as f:
        f.write(json.dumps({"path": path, "body": body}, ensure_ascii=False) + "\n")


def tool_names(body):
    names = []
    for tool in body.get("tools") or []:
        fn = tool.get("function") or {}
        names.append(fn.get("name") or tool.get("name"))
    return names


def plan(body):
    """What to answer: ("text", str) or ("tools", [(name, args_dict), ...])."""
    messages = body.get("messages") or []
    if messages and messages[-1].get("role") == "tool":
        return ("text", args.final_text)
    names = tool_names(body)
    if "get_weather" in names:
        return ("tools", [("get_weather", {"city": c}) for c in WEATHER_CITIES])
    if "Write" in names:
        return ("tools", [("Write", {"file_path": args.write_path, "content": args.write_content})])
    return ("text", "Hello from the fake " + args.style + " server.")


def words(text):
    out, cur = [], ""
    for ch in text:
        cur += ch
        if ch == " ":
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):  # noqa: N802 - stdlib name
        sys.stderr.write("fake_llm: " + (fmt % a) + "\n")

    def send_json(self, obj, status=200):
        data = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def read_body(self):
        n = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return None

    def start_stream(self, content_type):
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def write_chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    # ------------------------------------------------------------------ GET
    def do_GET(self):  # noqa: N802 - stdlib name
        if self.path == "/v1/models":
            self.send_json({"object": "list", "data": [
                {"id": "fake-model", "object": "model", "max_model_len": args.context_length}]})
        elif self.path == "/api/tags":
            self.send_json({"models": [{"name": "fake-model:latest", "model": "fake-model:latest",
                                        "size": 1, "details": {"family": "llama"}}]})
        elif self.path == "/api/version":
            self.send_json({"version": "0.14.0"})
        elif self.path == "/__fake/requests":
            with record_lock:
                try:
                    with open(args.record, encoding="utf-8") as f:
                        lines = [json.loads(line) for line in f if line.strip()]
                except FileNotFoundError:
                    lines = []
            self.send_json(lines)
        else:
            self.send_json({"error": "not found: " + self.path}, 404)

    # ----------------------------------------------------------------- POST
    def do_POST(self):  # noqa: N802 - stdlib name
        body = self.read_body()
        if body is None:
            self.send_json({"error": {"message": "invalid JSON", "type": "invalid_request_error"}}, 400)
            return
        if self.path == "/api/show":
            self.send_json({"model_info": {"general.architecture": "llama",
                                           "llama.context_length": args.context_length},
                            "capabilities": ["completion", "tools"]})
            return
        record(self.path, body)
        if self.path == "/v1/chat/completions" and args.style in ("vllm", "openai"):
            self.openai(body)
        elif self.path == "/api/chat" and args.style == "ollama":
            self.ollama(body)
        else:
            self.send_json({"error": "not served by this fake: " + self.path}, 404)

    # --------------------------------------------------------------- OpenAI
    def openai(self, body):
        kind, what = plan(body)
        model = body.get("model", "fake-model")
        usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS,
                 "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
                 "prompt_tokens_details": {"cached_tokens": CACHED_TOKENS}}
        calls = []
        if kind == "tools":
            for i, (name, arguments) in enumerate(what):
                calls.append({"id": f"call_{args.style}_{i}_{int(time.time() * 1000) % 100000}",
                              "type": "function",
                              "function": {"name": name,
                                           "arguments": json.dumps(arguments, ensure_ascii=False)}})
        if not body.get("stream"):
            message = {"role": "assistant", "content": what if kind == "text" else None}
            if calls:
                message["tool_calls"] = calls
            self.send_json({"id": "chatcmpl-fake", "object": "chat.completion", "created": 1,
                            "model": model,
                            "choices": [{"index": 0, "message": message,
                                         "finish_reason": "tool_calls" if calls else "stop"}],
                            "usage": usage})
            return

        def chunk(delta, finish=None, **extra):
            obj = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1,
                   "model": model, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            obj.update(extra)
            return ("data: " + json.dumps(obj, ensure_ascii=False) + "\n\n").encode()

        events = []
        if args.style == "vllm":
            events.append(chunk({"role": "assistant", "content": ""}))
        else:
            events.append(chunk({"role": "assistant", "content": None, "refusal": None}))
        if kind == "text":
            events += [chunk({"content": w}) for w in words(what)]
        for i, call in enumerate(calls):
            start = {"index": i, "id": call["id"], "type": "function",
                     "function": {"name": call["function"]["name"], "arguments": ""}}
            events.append(chunk({"tool_calls": [start]} if args.style == "vllm"
                                else {"content": None, "tool_calls": [start]}))
            arguments = call["function"]["arguments"]
            step = 4 if args.style == "vllm" else 7
            for k in range(0, len(arguments), step):
                piece = {"index": i, "function": {"arguments": arguments[k:k + step]}}
                events.append(chunk({"tool_calls": [piece]}))
        events.append(chunk({}, "tool_calls" if calls else "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(("data: " + json.dumps({"id": "chatcmpl-fake", "object": "chat.completion.chunk",
                                                  "created": 1, "model": model, "choices": [],
                                                  "usage": usage}) + "\n\n").encode())
        events.append(b"data: [DONE]\n\n")
        self.start_stream("text/event-stream")
        for event in events:
            if args.style == "openai" and len(event) > 8:
                # Split the raw bytes inside a multi-byte character when there is one.
                cut = next((k for k in range(1, len(event)) if (event[k] & 0xC0) == 0x80), len(event) // 2)
                self.write_chunk(event[:cut])
                time.sleep(0.002)
                self.write_chunk(event[cut:])
            else:
                self.write_chunk(event)
        self.end_stream()

    # --------------------------------------------------------------- Ollama
    def ollama(self, body):
        kind, what = plan(body)
        model = body.get("model", "fake-model")
        final = {"model": model, "created_at": "2026-11-24T00:00:00Z",
                 "message": {"role": "assistant", "content": ""}, "done": True,
                 "done_reason": "stop", "total_duration": 1000, "prompt_eval_count": PROMPT_TOKENS,
                 "eval_count": COMPLETION_TOKENS}
        messages = []
        if kind == "text":
            messages = [{"role": "assistant", "content": w} for w in words(what)]
        else:
            messages = [{"role": "assistant", "content": "",
                         "tool_calls": [{"function": {"name": n, "arguments": a}} for n, a in what]}]
        if body.get("stream") is False:
            message = {"role": "assistant", "content": what if kind == "text" else ""}
            if kind == "tools":
                message["tool_calls"] = messages[0]["tool_calls"]
            final["message"] = message
            self.send_json(final)
            return
        self.start_stream("application/x-ndjson")
        for message in messages:
            line = {"model": model, "created_at": "2026-11-24T00:00:00Z", "message": message, "done": False}
            self.write_chunk((json.dumps(line, ensure_ascii=False) + "\n").encode())
        self.write_chunk((json.dumps(final) + "\n").encode())
        self.end_stream()


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--style", choices=["vllm", "openai", "ollama"], required=True)
    p.add_argument("--record", required=True)
    p.add_argument("--write-path", default="/nonexistent/hello.txt")
    p.add_argument("--write-content", default="hello")
    p.add_argument("--final-text", default="Done.")
    p.add_argument("--context-length", type=int, default=131072)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
