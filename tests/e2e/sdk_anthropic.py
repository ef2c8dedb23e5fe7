"""The Anthropic Python SDK through `switchyard serve` to the fake upstream.

Run by scripts/e2e-sdk.sh, which starts both servers and passes:
  E2E_GATEWAY_URL, E2E_TOKEN, E2E_WRITE_PATH, E2E_WRITE_CONTENT, E2E_TEXT
Prints one line per check and `N passed, N failed`; exits non-zero on any failure.
"""

import os

import anthropic
from suite import Suite, expect

GATEWAY = os.environ["E2E_GATEWAY_URL"]
TOKEN = os.environ["E2E_TOKEN"]
WRITE_PATH = os.environ["E2E_WRITE_PATH"]
WRITE_CONTENT = os.environ["E2E_WRITE_CONTENT"]
TEXT = os.environ["E2E_TEXT"]
MODEL = "claude-sonnet-4-5"

WRITE_TOOL = {
    "name": "Write",
    "description": "Write a file",
    "input_schema": {
        "type": "object",
        "properties": {"file_path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["file_path", "content"],
    },
}
HELLO = [{"role": "user", "content": "Say hello."}]

client = anthropic.Anthropic(base_url=GATEWAY, api_key=TOKEN, max_retries=0, timeout=30)
# The profile e2e-sdk.sh adds with the response cache on (same backend and model).
cached = anthropic.Anthropic(
    base_url=f"{GATEWAY}/profiles/e2e-cached", api_key=TOKEN, max_retries=0, timeout=30
)
suite = Suite()


@suite.case
def create_text():
    """messages.create (non-streaming) returns the upstream's text and usage"""
    msg = client.messages.create(model=MODEL, max_tokens=64, messages=HELLO)
    expect(msg.type == "message" and msg.role == "assistant", f"shape: {msg!r}")
    expect([b.type for b in msg.content] == ["text"], f"blocks: {msg.content!r}")
    expect(msg.content[0].text == TEXT, f"text: {msg.content[0].text!r}")
    expect(msg.stop_reason == "end_turn", f"stop_reason: {msg.stop_reason!r}")
    expect(msg.usage.input_tokens > 0 and msg.usage.output_tokens > 0, f"usage: {msg.usage!r}")


@suite.case
def create_tool_use():
    """messages.create with tools returns a parsed tool_use block"""
    msg = client.messages.create(model=MODEL, max_tokens=64, messages=HELLO, tools=[WRITE_TOOL])
    expect(msg.stop_reason == "tool_use", f"stop_reason: {msg.stop_reason!r}")
    tool = [b for b in msg.content if b.type == "tool_use"]
    expect(len(tool) == 1 and tool[0].name == "Write", f"blocks: {msg.content!r}")
    expect(tool[0].input == {"file_path": WRITE_PATH, "content": WRITE_CONTENT}, f"input: {tool[0].input!r}")


@suite.case
def stream_text():
    """messages.stream accumulates the streamed text in order"""
    seen = []
    with client.messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        chunks = list(stream.text_stream)
        final = stream.get_final_message()
    seen = [c for c in chunks if c]
    expect(len(seen) > 1, f"expected several deltas, got {seen!r}")
    expect("".join(seen) == TEXT, f"streamed text: {''.join(seen)!r}")
    expect(final.content[0].text == TEXT, f"final: {final.content!r}")
    expect(final.stop_reason == "end_turn", f"stop_reason: {final.stop_reason!r}")
    expect(final.usage.output_tokens > 1, f"usage: {final.usage!r}")


@suite.case
def stream_tool_use():
    """messages.stream reassembles a tool call from input_json_delta events"""
    with client.messages.stream(model=MODEL, max_tokens=64, messages=HELLO, tools=[WRITE_TOOL]) as stream:
        events = [e.type for e in stream]
        final = stream.get_final_message()
    expect(events[0] == "message_start" and events[-1] == "message_stop", f"events: {events!r}")
    tool = [b for b in final.content if b.type == "tool_use"]
    expect(len(tool) == 1, f"blocks: {final.content!r}")
    expect(tool[0].input == {"file_path": WRITE_PATH, "content": WRITE_CONTENT}, f"input: {tool[0].input!r}")
    expect(final.stop_reason == "tool_use", f"stop_reason: {final.stop_reason!r}")


@suite.case
def tool_result_turn():
    """a tool_result turn gets the final text"""
    first = client.messages.create(model=MODEL, max_tokens=64, messages=HELLO, tools=[WRITE_TOOL])
    tool = next(b for b in first.content if b.type == "tool_use")
    msg = client.messages.create(
        model=MODEL,
        max_tokens=64,
        tools=[WRITE_TOOL],
        messages=HELLO
        + [
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "ok"}]},
        ],
    )
    expect(msg.content[0].type == "text" and msg.content[0].text.startswith("FAKE-UPSTREAM-DONE"), f"{msg.content!r}")


@suite.case
def count_tokens():
    """messages.count_tokens is forwarded and answered"""
    count = client.messages.count_tokens(model=MODEL, messages=HELLO, tools=[WRITE_TOOL])
    expect(isinstance(count.input_tokens, int) and count.input_tokens > 10, f"count: {count!r}")


@suite.case
def stream_replayed_from_the_cache():
    """a repeated stream is replayed from the response cache and the SDK accepts it"""
    messages = [{"role": "user", "content": "Say hello, then say it again."}]
    finals, headers = [], []
    for _ in range(2):
        with cached.messages.stream(model=MODEL, max_tokens=64, messages=messages) as stream:
            text = "".join(stream.text_stream)
            finals.append(stream.get_final_message())
            headers.append(stream.response.headers.get("x-switchyard-cache"))
        expect(text == TEXT, f"streamed text: {text!r}")
    expect(headers == ["miss", "hit"], f"x-switchyard-cache: {headers!r}")
    expect(finals[1] == finals[0], f"final messages differ: {finals[0]!r} / {finals[1]!r}")
    expect(finals[1].stop_reason == "end_turn", f"stop_reason: {finals[1].stop_reason!r}")
    # The same request without streaming: the stored stream as one message.
    raw = cached.messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=messages)
    expect(raw.headers.get("x-switchyard-cache") == "hit", f"header: {raw.headers!r}")
    whole = raw.parse()
    # (The stream's blocks are the SDK's Parsed* subclasses: compared as plain fields.)
    blocks = [b.model_dump(exclude={"parsed_output"}) for b in whole.content]
    streamed = [b.model_dump(exclude={"parsed_output"}) for b in finals[0].content]
    expect(blocks == streamed, f"content: {blocks!r} / {streamed!r}")
    expect(whole.usage == finals[0].usage, f"usage: {whole.usage!r} / {finals[0].usage!r}")


@suite.case
def wrong_token():
    """a wrong local token is an AuthenticationError naming the token"""
    bad = anthropic.Anthropic(base_url=GATEWAY, api_key="sy-wrong", max_retries=0, timeout=30)
    try:
        bad.messages.create(model=MODEL, max_tokens=8, messages=HELLO)
    except anthropic.AuthenticationError as err:
        expect(err.status_code == 401, f"status {err.status_code}")
        expect("token" in str(err), f"message: {err}")
        return
    raise AssertionError("the request succeeded with a wrong token")


suite.finish()
