"""The real-model suite: a real llama.cpp server behind Switchyard, real clients in front.

Run by scripts/test-real.sh, which starts both servers and passes, in the environment:
GATEWAY_URL, SWITCHYARD_TOKEN, LLAMA_LOG (the llama.cpp server's log, to see which requests
reached it), GATEWAY_LOG, CONTEXT_LENGTH, CLAUDE_BIN (empty when Claude Code is not installed)
and WORK_DIR (a temp dir for this run).

Prints one line per test and closes with "N passed, N failed, N skipped"; exits 1 on failure.
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
import warnings

import anthropic

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import claude_code_like  # noqa: E402

GATEWAY_URL = os.environ["GATEWAY_URL"]
TOKEN = os.environ["SWITCHYARD_TOKEN"]
LLAMA_LOG = os.environ["LLAMA_LOG"]
GATEWAY_LOG = os.environ.get("GATEWAY_LOG", "")
LLAMA_URL = os.environ.get("LLAMA_URL", "")
LLAMA_KEY = os.environ.get("LLAMA_KEY", "")
CONTEXT_LENGTH = int(os.environ.get("CONTEXT_LENGTH", "8192"))
CLAUDE_BIN = os.environ.get("CLAUDE_BIN", "")
WORK_DIR = os.environ.get("WORK_DIR") or tempfile.mkdtemp()

MODEL = "claude-sonnet-4-5"
# The SDK warns that this model name is deprecated: it is the name Claude Code sends by default here.
warnings.filterwarnings("ignore", category=DeprecationWarning)
TOO_LONG = re.compile(r"prompt is too long: (\d+) tokens > (\d+) maximum")
# A small model answers in well under a minute; this only bounds a hang.
CLIENT_TIMEOUT_S = 120.0
CLAUDE_TIMEOUT_S = 180

client = anthropic.Anthropic(base_url=GATEWAY_URL, api_key=TOKEN, timeout=CLIENT_TIMEOUT_S, max_retries=0)


class Skip(Exception):
    pass


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def llama_chat_requests() -> int:
    """How many chat completion requests the llama.cpp server has logged (uvicorn access log)."""
    with open(LLAMA_LOG, encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if '"POST /v1/chat/completions' in line)


def gateway_too_long_lines() -> int:
    """How many attempts the gateway logged as failing with the context error."""
    if not GATEWAY_LOG:
        return 0
    with open(GATEWAY_LOG, encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if "prompt is too long" in line)


def wait_for_llama_count(at_least: int, seconds: float = 5.0) -> int:
    """The access log line is written when the response ends: allow it a moment."""
    deadline = time.monotonic() + seconds
    count = llama_chat_requests()
    while count < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
        count = llama_chat_requests()
    return count


# ---------------------------------------------------------------- the tests


def test_stream():
    """a. messages.stream through the gateway gets real text from the model."""
    before = llama_chat_requests()
    start = time.monotonic()
    first_text_at = None
    chunks = []
    with client.messages.stream(
        model=MODEL,
        max_tokens=64,
        messages=[{"role": "user", "content": "Say hello in one short sentence."}],
    ) as stream:
        for text in stream.text_stream:
            if text and first_text_at is None:
                first_text_at = time.monotonic()
            chunks.append(text)
        final = stream.get_final_message()
    total = time.monotonic() - start
    text = "".join(chunks)
    check(text.strip(), f"no text streamed back (final message: {final!r})")
    check(final.stop_reason in ("end_turn", "max_tokens"), f"stop_reason {final.stop_reason!r}")
    check(final.usage.input_tokens > 0, f"usage.input_tokens {final.usage.input_tokens}")
    check(final.usage.output_tokens > 0, f"usage.output_tokens {final.usage.output_tokens}")
    check(final.model, "the final message has no model")
    final_text = "".join(b.text for b in final.content if b.type == "text")
    check(final_text == text, f"final message text {final_text!r} differs from the streamed text {text!r}")
    # The log must show the request, or test (c)'s "llama.cpp never saw it" would prove nothing.
    after = wait_for_llama_count(before + 1)
    check(after == before + 1, f"llama.cpp logged {after - before} chat requests for one stream")
    return (
        f"first token {first_text_at - start:.2f}s, total {total:.2f}s, stop_reason={final.stop_reason}, "
        f"usage in={final.usage.input_tokens} out={final.usage.output_tokens}, text={text.strip()[:60]!r}"
    )


def test_create():
    """a. a non-streamed messages.create gets real text from the model."""
    start = time.monotonic()
    msg = client.messages.create(
        model="claude-haiku-4-5",
        max_tokens=48,
        system="You are a helpful assistant.",
        messages=[{"role": "user", "content": "What is the capital of France? Answer in one word."}],
    )
    took = time.monotonic() - start
    text = "".join(b.text for b in msg.content if b.type == "text")
    check(msg.type == "message" and msg.role == "assistant", f"not an assistant message: {msg!r}")
    check(msg.id.startswith("msg_"), f"message id {msg.id!r}")
    check(text.strip(), f"empty text: {msg!r}")
    check(msg.stop_reason in ("end_turn", "max_tokens"), f"stop_reason {msg.stop_reason!r}")
    check(msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0, f"usage {msg.usage!r}")
    return (
        f"{took:.2f}s, stop_reason={msg.stop_reason}, usage in={msg.usage.input_tokens} "
        f"out={msg.usage.output_tokens}, text={text.strip()[:60]!r}"
    )


def test_count_tokens():
    """b. count_tokens is positive and grows with the prompt."""
    before = llama_chat_requests()

    def count(text):
        return client.messages.count_tokens(
            model=MODEL, messages=[{"role": "user", "content": text}]
        ).input_tokens

    short = count("Hello, how are you today?")
    sentence = "The quick brown fox jumps over the lazy dog while the cat watches from the fence. "
    longer = count(sentence * 20)
    longest = count(sentence * 200)
    check(short > 0, f"a short prompt counts {short} tokens")
    check(short < 50, f"'Hello, how are you today?' counts {short} tokens: not plausible")
    check(longer > short, f"a longer prompt counts {longer} <= {short}")
    check(longest > longer, f"a 10x longer prompt counts {longest} <= {longer}")
    # ~17 tokens a sentence; allow for the estimate erring high and for a per-message overhead.
    per_sentence = (longest - longer) / 180
    check(8 <= per_sentence <= 40, f"{per_sentence:.1f} tokens per 17-token sentence: not plausible")
    check(llama_chat_requests() == before, "count_tokens sent a chat request to llama.cpp")
    return f"short={short}, 20 sentences={longer}, 200 sentences={longest} ({per_sentence:.1f}/sentence)"


def test_first_token_direct():
    """For comparison with (a): the same streamed prompt sent to llama.cpp directly."""
    if not LLAMA_URL:
        raise Skip("LLAMA_URL is not set")
    body = json.dumps(
        {
            "model": "smollm2",
            "max_tokens": 64,
            "stream": True,
            "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
        }
    ).encode()
    req = urllib.request.Request(
        f"{LLAMA_URL}/v1/chat/completions",
        data=body,
        method="POST",
        headers={"content-type": "application/json", "authorization": f"Bearer {LLAMA_KEY}"},
    )
    start = time.monotonic()
    first = None
    text = []
    with urllib.request.urlopen(req, timeout=CLIENT_TIMEOUT_S) as resp:
        for raw in resp:
            line = raw.decode("utf-8", errors="replace").strip()
            if not line.startswith("data:") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[5:])
            for choice in chunk.get("choices", []):
                piece = (choice.get("delta") or {}).get("content") or ""
                if piece and first is None:
                    first = time.monotonic()
                text.append(piece)
    total = time.monotonic() - start
    check(first is not None, "llama.cpp streamed no text")
    return f"first token {first - start:.2f}s, total {total:.2f}s, text={''.join(text).strip()[:60]!r}"


def _post_messages(body: bytes, headers: dict) -> tuple:
    req = urllib.request.Request(f"{GATEWAY_URL}/v1/messages?beta=true", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=CLIENT_TIMEOUT_S) as resp:
            return resp.status, resp.headers.get("content-type", ""), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def test_too_long_claude_code_sized():
    """c. a ~90 KB Claude-Code-shaped streaming request gets the gateway's prompt-too-long 400."""
    body = json.dumps(claude_code_like.request(stream=True)).encode()
    check(80_000 <= len(body) <= 110_000, f"the request is {len(body)} bytes, not ~90 KB")
    before = llama_chat_requests()
    start = time.monotonic()
    status, ctype, raw = _post_messages(
        body,
        {
            "content-type": "application/json",
            "authorization": f"Bearer {TOKEN}",
            "anthropic-version": "2023-06-01",
            "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
            "x-app": "cli",
            "user-agent": "claude-cli/2.1.197 (external, cli)",
        },
    )
    took = time.monotonic() - start
    text = raw.decode("utf-8", errors="replace")
    check(status == 400, f"status {status}, body {text[:300]!r}")
    check("application/json" in ctype, f"content-type {ctype!r} (a stream was started?), body {text[:300]!r}")
    err = json.loads(text)
    check(err.get("type") == "error", f"body {err!r}")
    check(err["error"].get("type") == "invalid_request_error", f"error type {err['error'].get('type')!r}")
    message = err["error"].get("message", "")
    m = TOO_LONG.fullmatch(message)
    check(m, f"message {message!r} is not 'prompt is too long: N tokens > M maximum'")
    n, mx = int(m.group(1)), int(m.group(2))
    check(n > mx, f"{n} tokens is not more than the {mx} maximum")
    # Anthropic reports the model's window as the maximum; the usable input window is smaller.
    check(mx <= CONTEXT_LENGTH, f"maximum {mx} is above the {CONTEXT_LENGTH} window")
    check(mx > CONTEXT_LENGTH // 2, f"maximum {mx}: most of the {CONTEXT_LENGTH} window should be usable")
    # ~91 KB of English and JSON is well over 15k tokens with any tokenizer.
    check(15_000 <= n <= 60_000, f"{n} tokens for {len(body)} bytes is not plausible")
    time.sleep(0.5)
    after = llama_chat_requests()
    check(after == before, f"llama.cpp received {after - before} chat request(s): the guard let it through")
    return f"{len(body)} bytes -> 400 in {took * 1000:.0f} ms: {message!r}; llama.cpp saw no request"


def test_too_long_sdk():
    """c. the same request through the SDK raises BadRequestError with the same message."""
    req = claude_code_like.request(stream=False)
    before = llama_chat_requests()
    start = time.monotonic()
    try:
        client.messages.create(
            model=req["model"],
            max_tokens=req["max_tokens"],
            system=req["system"],
            tools=req["tools"],
            messages=req["messages"],
        )
    except anthropic.BadRequestError as e:
        took = time.monotonic() - start
        check(e.status_code == 400, f"status {e.status_code}")
        body = e.body if isinstance(e.body, dict) else {}
        error = body.get("error", body)
        check(error.get("type") == "invalid_request_error", f"error body {e.body!r}")
        check(TOO_LONG.fullmatch(error.get("message", "")), f"message {error.get('message')!r}")
        time.sleep(0.5)
        check(llama_chat_requests() == before, "llama.cpp received the request")
        return f"BadRequestError in {took * 1000:.0f} ms: {error['message']!r}"
    raise AssertionError("the SDK got an answer to a prompt that cannot fit the window")


def test_claude_code():
    """d. Claude Code (its own ~25k-token prompt cannot fit 8k) fails cleanly with the context error."""
    if not CLAUDE_BIN:
        raise Skip(
            "Claude Code is not installed (neither ${SWITCHYARD_CACHE:-~/.cache/switchyard-test}"
            "/node_modules/.bin/claude nor claude on PATH)"
        )
    home = tempfile.mkdtemp(prefix="home-", dir=WORK_DIR)
    project = tempfile.mkdtemp(prefix="project-", dir=WORK_DIR)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ANTHROPIC_", "CLAUDE_", "SWITCHYARD_")) and k not in ("GATEWAY_URL", "LLAMA_LOG")
    }
    env.update(
        HOME=home,
        ANTHROPIC_BASE_URL=GATEWAY_URL,
        ANTHROPIC_AUTH_TOKEN=TOKEN,
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        DISABLE_AUTOUPDATER="1",
    )
    before = llama_chat_requests()
    gateway_before = gateway_too_long_lines()
    start = time.monotonic()
    try:
        proc = subprocess.run(
            [CLAUDE_BIN, "-p", "Say hello", "--model", MODEL],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=CLAUDE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") + (e.stderr or b"").decode(errors="replace")
        raise AssertionError(f"claude -p did not finish within {CLAUDE_TIMEOUT_S} s; output so far: {out[-500:]!r}")
    took = time.monotonic() - start
    stdout = proc.stdout.decode(errors="replace")
    stderr = proc.stderr.decode(errors="replace")
    output = (stdout + "\n" + stderr).strip()
    with open(os.path.join(WORK_DIR, "claude-code.out"), "w") as f:
        f.write(f"exit {proc.returncode}\n--- stdout\n{stdout}\n--- stderr\n{stderr}\n")
    gateway_rejected = gateway_too_long_lines() - gateway_before
    check(
        "prompt is too long" in output.lower() or gateway_rejected > 0,
        f"exit {proc.returncode}, neither its output nor the gateway log reports the context error: {output[-800:]!r}",
    )
    check(proc.returncode != 0, f"claude -p exited 0 although the prompt cannot fit: {output[-500:]!r}")
    # Everything it printed should be about the error, not a (truncated) model answer.
    check(len(stdout) < 2000, f"claude -p printed {len(stdout)} characters: {stdout[:300]!r}")
    llama_seen = llama_chat_requests() - before
    summary = " ".join(output.split())[:160]
    return (
        f"exit {proc.returncode} in {took:.1f}s, gateway rejected {gateway_rejected} request(s) as too long, "
        f"llama.cpp saw {llama_seen}; output: {summary!r}"
    )


TESTS = [
    ("a  stream: messages.stream gets real text", test_stream),
    ("a  create: messages.create gets real text", test_create),
    ("a  (for comparison) the same stream sent to llama.cpp directly", test_first_token_direct),
    ("b  count_tokens: positive and grows with the prompt", test_count_tokens),
    ("c  too long: ~90 KB Claude-Code-sized request -> 400 from the gateway", test_too_long_claude_code_sized),
    ("c  too long: the same through the SDK -> BadRequestError", test_too_long_sdk),
    ("d  claude -p through the gateway fails cleanly on the 8k window", test_claude_code),
]


def main() -> int:
    passed = failed = skipped = 0
    for name, fn in TESTS:
        try:
            detail = fn()
        except Skip as s:
            skipped += 1
            print(f"SKIPPED {name}: {s}", flush=True)
        except Exception as e:  # noqa: BLE001 (any error is this test's failure, the rest still run)
            failed += 1
            print(f"FAIL    {name}: {type(e).__name__}: {e}", flush=True)
            if not isinstance(e, AssertionError):
                traceback.print_exc()
        else:
            passed += 1
            print(f"ok      {name}: {detail}", flush=True)
    print(f"{passed} passed, {failed} failed, {skipped} skipped", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    # SIGTERM (the runner stopping us) as SystemExit: subprocess.run then kills claude too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
