"""A fake Anthropic-compatible upstream on 127.0.0.1 for the desktop end-to-end test.

It answers GET /v1/models and POST /v1/messages (plain JSON or SSE) with a reply naming
itself, and remembers every request it saw (path, headers, body) for the test to inspect. A key in
`reject_keys` is answered 401, as a provider answers a revoked key.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeUpstream:
    def __init__(self, name: str) -> None:
        self.name = name
        self.requests: list[dict] = []
        # x-api-key values answered 401 (a revoked key).
        self.reject_keys: set[str] = set()
        self._lock = threading.Lock()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:  # keep test output quiet
                pass

            def _send_json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _refused(self) -> bool:
                if self.headers.get("x-api-key") not in upstream.reject_keys:
                    return False
                self._send_json(401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}})
                return True

            def do_GET(self) -> None:  # noqa: N802
                if self._refused():
                    return
                if self.path.rstrip("/").endswith("/v1/models"):
                    self._send_json(200, {"data": [{"id": f"{upstream.name}-model", "type": "model"}], "has_more": False})
                else:
                    self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {}
                with upstream._lock:
                    upstream.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if not self.path.split("?")[0].endswith("/v1/messages"):
                    self._send_json(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
                    return
                if self._refused():
                    return
                text = f"hello from {upstream.name}"
                model = body.get("model", "unknown")
                usage = {"input_tokens": 11, "output_tokens": 4}
                if body.get("stream"):
                    self._stream(model, text, usage)
                else:
                    self._send_json(200, {
                        "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
                        "content": [{"type": "text", "text": text}],
                        "stop_reason": "end_turn", "stop_sequence": None, "usage": usage,
                    })

            def _stream(self, model: str, text: str, usage: dict) -> None:
                events = [
                    ("message_start", {"type": "message_start", "message": {"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": usage["input_tokens"], "output_tokens": 1}}}),
                    ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}),
                    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": usage["output_tokens"]}}),
                    ("message_stop", {"type": "message_stop"}),
                ]
                data = b"".join(f"event: {name}\ndata: {json.dumps(ev)}\n\n".encode() for name, ev in events)
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "FakeUpstream":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def keys_sent(self) -> list[str]:
        """The x-api-key of each /v1/messages request, in order (refused ones included)."""
        return [r["headers"].get("x-api-key") or r["headers"].get("X-Api-Key") or "" for r in self.messages()]

    def messages(self) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if r["path"].split("?")[0].endswith("/v1/messages")]
