"""Writes the seed inputs of the sse_openai fuzz target (run: python3 make_sse_openai.py).

Each seed is a control byte (bits 0-3: piece size - 1; 0x10 non-streaming; 0x20 HTTP 429;
0x40 application/json; 0x80 the transport failed) followed by a response body.
"""

import json
import os


def event(obj, name=None):
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(obj, separators=(',', ':'))}\n\n"


def chunk(content=None, reasoning=None, finish=None, usage=None):
    delta = {}
    if content is not None:
        delta["content"] = content
    if reasoning is not None:
        delta["reasoning_content"] = reasoning
    out = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}] if usage is None else []}
    if usage is not None:
        out["usage"] = usage
    return out


USAGE = {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15, "prompt_tokens_details": {"cached_tokens": 4}, "completion_tokens_details": {"reasoning_tokens": 1}}
stream = "".join([
    ": keep-alive\n\n",
    event(chunk(content="")),
    event(chunk(reasoning="think")),
    event(chunk(content="h\u00e9")),
    "id: 7\r\nretry: 10\r\ndata: " + json.dumps(chunk(content=" \u2713")) + "\r\n\r\n",
    event(chunk(finish="stop")),
    event(chunk(usage=USAGE)),
    "data: [DONE]\n\n",
])
whole = json.dumps({"id": "chatcmpl-2", "object": "chat.completion", "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}], "usage": USAGE})
error_body = json.dumps({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}})
seeds = {
    "stream": (0x03, stream),
    "stream-bytewise": (0x00, stream),
    "stream-interrupted": (0x85, stream[: len(stream) // 2]),
    "stream-error-event": (0x07, event(chunk(content="a")) + event({"error": {"message": "overloaded"}}, "error")),
    "stream-no-done": (0x0F, event(chunk(content="a", finish="length"))),
    "whole": (0x51, whole),
    "rate-limited": (0x62, error_body),
    "rate-limited-stream": (0x22, "data: " + error_body + "\n\n"),
}
os.makedirs("sse_openai", exist_ok=True)
for name, (control, body) in seeds.items():
    with open(os.path.join("sse_openai", name), "wb") as f:
        f.write(bytes([control]) + body.encode())
