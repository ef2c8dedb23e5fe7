"""The Anthropic Python SDK through `switchyard serve` to a translating backend: the scripted
OpenAI-style (vLLM or OpenAI chunking) or Ollama-style fake of tests/e2e/fake_llm.py.

Run by scripts/e2e-sdk.sh, which starts both servers and passes:
  E2E_GATEWAY_URL, E2E_TOKEN, E2E_FAKE_URL, E2E_STYLE (vllm | openai | ollama), E2E_FINAL
Prints one line per check and `N passed, N failed`; exits non-zero on any failure.
"""

import json
import os
import urllib.request

import anthropic
from suite import Suite, expect

GATEWAY = os.environ["E2E_GATEWAY_URL"]
TOKEN = os.environ["E2E_TOKEN"]
FAKE = os.environ["E2E_FAKE_URL"]
STYLE = os.environ["E2E_STYLE"]
FINAL = os.environ["E2E_FINAL"]
MODEL = "claude-sonnet-4-5"
# What the fake reports (tests/e2e/fake_llm.py).
PROMPT_TOKENS, CACHED_TOKENS, COMPLETION_TOKENS = 1234, 1000, 42
HELLO_TEXT = f"Hello from the fake {STYLE} server."
CITIES = ["Paris", "東京"]

WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
HELLO = [{"role": "user", "content": "Say hello."}]
ASK = [{"role": "user", "content": "What is the weather in Paris and in Tokyo?"}]

client = anthropic.Anthropic(base_url=GATEWAY, api_key=TOKEN, max_retries=0, timeout=30)
suite = Suite(f"[{STYLE}] ")


def upstream_requests():
    with urllib.request.urlopen(FAKE + "/__fake/requests", timeout=10) as r:
        return [x["body"] for x in json.load(r)]


def expect_usage(usage):
    if STYLE == "ollama":
        expect(usage.input_tokens == PROMPT_TOKENS, f"input_tokens {usage.input_tokens}")
    else:
        # OpenAI's prompt_tokens include the cached ones; Anthropic's input_tokens do not.
        expect(usage.input_tokens == PROMPT_TOKENS - CACHED_TOKENS, f"input_tokens {usage.input_tokens}")
        expect(usage.cache_read_input_tokens == CACHED_TOKENS, f"cache_read {usage.cache_read_input_tokens}")
    expect(usage.output_tokens == COMPLETION_TOKENS, f"output_tokens {usage.output_tokens}")


def expect_weather_calls(content, stop_reason):
    uses = [b for b in content if b.type == "tool_use"]
    expect(len(uses) == 2, f"two tool_use blocks: {content!r}")
    expect([u.name for u in uses] == ["get_weather", "get_weather"], f"names {[u.name for u in uses]}")
    expect([u.input for u in uses] == [{"city": c} for c in CITIES], f"inputs {[u.input for u in uses]}")
    expect(all(u.id.startswith("toolu_") for u in uses), f"ids {[u.id for u in uses]}")
    expect(len({u.id for u in uses}) == 2, "distinct ids")
    expect(stop_reason == "tool_use", f"stop_reason {stop_reason}")
    expect(not any(b.type == "text" and not b.text for b in content), "no empty text block")
    return uses


@suite.case
def create_text():
    """messages.create returns the upstream's text and its usage"""
    msg = client.messages.create(model=MODEL, max_tokens=64, messages=HELLO)
    expect([b.type for b in msg.content] == ["text"], f"blocks: {msg.content!r}")
    expect(msg.content[0].text == HELLO_TEXT, f"text: {msg.content[0].text!r}")
    expect(msg.stop_reason == "end_turn", f"stop_reason {msg.stop_reason}")
    expect(msg.model == MODEL, f"model echoed back: {msg.model}")
    expect_usage(msg.usage)


@suite.case
def stream_text():
    """messages.stream yields the text in order and a final message with usage"""
    pieces = []
    with client.messages.stream(model=MODEL, max_tokens=64, messages=HELLO) as stream:
        for text in stream.text_stream:
            pieces.append(text)
        final = stream.get_final_message()
    expect("".join(pieces) == HELLO_TEXT, f"streamed text {''.join(pieces)!r}")
    expect(len(pieces) > 1, "the text arrived in several deltas")
    expect(final.stop_reason == "end_turn", f"stop_reason {final.stop_reason}")
    expect_usage(final.usage)


@suite.case
def create_parallel_tools():
    """messages.create with tools: two parallel tool calls, inputs exact, stop_reason tool_use"""
    msg = client.messages.create(model=MODEL, max_tokens=256, messages=ASK, tools=[WEATHER])
    expect_weather_calls(msg.content, msg.stop_reason)


@suite.case
def stream_parallel_tools():
    """streamed parallel tool calls: blocks 0..n one at a time, input_json_delta, exact inputs"""
    starts, stops, open_blocks, partial = [], [], set(), {}
    with client.messages.stream(model=MODEL, max_tokens=256, messages=ASK, tools=[WEATHER]) as stream:
        for event in stream:
            if event.type == "content_block_start":
                expect(not open_blocks, f"block {event.index} opened while {open_blocks} open")
                open_blocks.add(event.index)
                starts.append(event.index)
                if event.content_block.type == "tool_use":
                    expect(event.content_block.input == {}, "tool input is empty in the start event")
            elif event.type == "content_block_delta" and event.delta.type == "input_json_delta":
                partial[event.index] = partial.get(event.index, "") + event.delta.partial_json
            elif event.type == "content_block_stop":
                open_blocks.discard(event.index)
                stops.append(event.index)
        final = stream.get_final_message()
    expect(starts == list(range(len(starts))), f"indices {starts}")
    expect(stops == starts, f"stops {stops}")
    uses = expect_weather_calls(final.content, final.stop_reason)
    expect([json.loads(partial[i]) for i in sorted(partial)] == [u.input for u in uses], f"deltas {partial}")
    expect_usage(final.usage)


@suite.case
def tool_results_turn():
    """tool results go upstream as role=tool messages paired with the calls, answer follows"""
    msg = client.messages.create(model=MODEL, max_tokens=256, messages=ASK, tools=[WEATHER])
    uses = [b for b in msg.content if b.type == "tool_use"]
    expect(len(uses) == 2, "two calls to answer")
    history = ASK + [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in msg.content]},
        {"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": uses[0].id, "content": "Sunny, 21 °C"},
            {"type": "tool_result", "tool_use_id": uses[1].id, "content": "Rain, 14 °C", "is_error": False},
        ]},
    ]
    answer = client.messages.create(model=MODEL, max_tokens=256, messages=history, tools=[WEATHER])
    expect([b.type for b in answer.content] == ["text"] and answer.content[0].text == FINAL,
           f"answer {answer.content!r}")
    last = upstream_requests()[-1]
    msgs = last["messages"]
    tools = [m for m in msgs if m.get("role") == "tool"]
    expect(len(tools) == 2, f"two tool messages upstream: {msgs!r}"[:400])
    assistant = next(m for m in msgs if m.get("role") == "assistant")
    call_ids = [c.get("id") for c in assistant.get("tool_calls") or []]
    expect(len(call_ids) == 2, f"the assistant's calls in the history: {assistant!r}"[:400])
    # The tool messages directly follow the assistant message, in the calls' order.
    at = msgs.index(assistant)
    expect(msgs[at + 1:at + 3] == tools, "tool messages right after the assistant message")
    if STYLE == "ollama":
        expect([t.get("tool_name") for t in tools] == ["get_weather"] * 2, f"tool names {tools!r}")
    else:
        expect([t.get("tool_call_id") for t in tools] == call_ids, f"{[t.get('tool_call_id') for t in tools]} vs {call_ids}")
    expect(tools[0]["content"] == "Sunny, 21 °C", f"content {tools[0]['content']!r}")


@suite.case
def count_tokens_locally():
    """count_tokens is answered locally: positive and growing with the input"""
    small = client.messages.count_tokens(model=MODEL, messages=HELLO).input_tokens
    big = client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "Tell me about Rust. " * 200}], tools=[WEATHER]
    ).input_tokens
    expect(small > 0, f"small {small}")
    expect(big > small + 500, f"big {big} vs small {small}")


suite.finish()
