"""Writes the seed inputs of the endpoints_text fuzz target (run: python3 make_endpoints_text.py).

Each seed is two control bytes, then a response body. First byte: bits 0-3 piece size - 1; 0x10
non-streaming; 0x20 HTTP 429; 0x40 application/json; 0x80 the transport failed. Second byte: the
endpoint (0 OpenAI chat, 1 OpenAI Responses, 2 Anthropic Messages, 3 custom SSE by paths,
4 custom JSON lines by paths, 5 custom event-stream by paths; see the target).
"""

import json
import os


def event(obj, name=None):
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(obj, separators=(',', ':'))}\n\n"


def chat(content=None, usage=None):
    out = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [] if usage else [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}
    if usage:
        out["usage"] = usage
    return out


chat_stream = "".join([event(chat("Hel")), event(chat("lo \u2713")), event(chat(usage={"prompt_tokens": 3, "completion_tokens": 2})), "data: [DONE]\n\n"])
chat_whole = json.dumps({"id": "c", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}})
responses_stream = "".join([
    event({"type": "response.created", "response": {"id": "r"}}, "response.created"),
    event({"type": "response.output_text.delta", "item_id": "m", "output_index": 0, "content_index": 0, "delta": "Hi \"x\""}, "response.output_text.delta"),
    event({"type": "response.completed", "response": {"id": "r", "usage": {"input_tokens": 3, "output_tokens": 2}}}, "response.completed"),
])
responses_whole = json.dumps({"id": "r", "object": "response", "output": [{"type": "message", "content": [{"type": "output_text", "text": "hi"}]}], "usage": {"input_tokens": 3, "output_tokens": 1}})
messages_stream = "".join([
    event({"type": "message_start", "message": {"id": "msg_1", "usage": {"input_tokens": 5, "output_tokens": 1}}}, "message_start"),
    event({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}, "content_block_delta"),
    event({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}}, "message_delta"),
    event({"type": "message_stop"}, "message_stop"),
])
messages_whole = json.dumps({"id": "msg_1", "type": "message", "content": [{"type": "text", "text": "hi"}], "usage": {"input_tokens": 5, "output_tokens": 1}})
custom_sse = chat_stream + event({}, "end")
json_lines = "".join(json.dumps(o) + "\n" for o in [{"response": "a ", "done": False}, {"response": "b", "done": False}, {"response": "", "done": True, "eval_count": 2, "prompt_eval_count": 4}])
error_body = json.dumps({"error": {"message": "Rate limit reached", "type": "requests"}})
seeds = {
    "chat-stream": (0x03, 0, chat_stream),
    "chat-whole": (0x51, 0, chat_whole),
    "responses-stream": (0x05, 1, responses_stream),
    "responses-whole": (0x52, 1, responses_whole),
    "messages-stream": (0x02, 2, messages_stream),
    "messages-whole": (0x53, 2, messages_whole),
    "custom-sse": (0x04, 3, custom_sse),
    "custom-whole": (0x56, 3, json.dumps(chat("whole"))),
    "json-lines": (0x07, 4, json_lines),
    "json-lines-interrupted": (0x81, 4, json_lines[: len(json_lines) // 2]),
    "rate-limited": (0x62, 2, error_body),
}
os.makedirs("endpoints_text", exist_ok=True)
for name, (control, which, body) in seeds.items():
    with open(os.path.join("endpoints_text", name), "wb") as f:
        f.write(bytes([control, which]) + body.encode())
