"""Writes the seed inputs of the result_files fuzz target (run: python3 make_result_files.py).

Each seed is one run folder in the target's input format: a byte saying which files exist (bit i
= FILES[i]; bit 7 = names under a folder), a byte for the piece sizes, then the files' contents
separated by 0xFF.
"""

import json
import os

FILES = ["responses.jsonl", "chunk_timings.jsonl", "summary.json", "stats.json", "run_config.json", "run_info.json", "payload.jsonl"]

SUMMARY = {"total_requests": 3, "clients": 1, "n_requests": 3, "total_test_time": 3.0, "model_id": "m", "output_path": "/tmp/out/run", "endpoint_name": "e", "provider": "p", "run_name": "run", "run_description": None, "start_time": "2025-01-01T11:59:59Z", "first_request_time": "2025-01-01T12:00:00Z", "last_request_time": "2025-01-01T12:00:02Z", "end_time": "2025-01-01T12:00:04Z"}
RESPONSES = [
    '{"response_text": "a", "input_payload": null, "id": "r1", "input_prompt": "p", "time_to_first_token": 0.2, "time_to_last_token": 1.0, "num_tokens_input": 10, "num_tokens_output": 50, "num_tokens_input_cached": null, "num_tokens_output_reasoning": null, "time_per_output_token": 0.0163265306122449, "error": null, "retries": null, "request_time": "2025-01-01T12:00:00Z", "annotations": {"cost": 1}}',
    '{"response_text": "h\\u00e9 \\"q\\" \u2713", "input_payload": {"messages": [{"role": "user", "content": "hi"}], "stream": true}, "id": "r2", "input_prompt": {"parts": ["x"]}, "time_to_first_token": NaN, "time_to_last_token": 1.5, "num_tokens_input": 20, "num_tokens_output": 100, "num_tokens_input_cached": 5, "num_tokens_output_reasoning": 7, "time_per_output_token": null, "error": null, "retries": 0, "request_time": "2025-01-01T12:00:02Z"}',
    '{"response_text": null, "id": "r3", "error": "HTTP 500: boom", "request_time": "2025-01-01T12:00:01Z"}',
]
TIMINGS = [
    '{"id": "r1", "time_to_first_chunk": 0.18, "time_to_headers": 0.1, "content_chunk_offsets": [0.2, 0.6, 1.0], "num_chunks": 3, "num_events": 4, "status": 200, "payload_index": 0, "network": {"visible": true, "queueing": 0.5, "dns": 0.0, "connect": 1.2, "tls": null, "request_sent": 0.1, "response_start": 180.0}}',
    '{"id": "r3", "time_to_first_chunk": null, "time_to_headers": 0.05, "content_chunk_offsets": [], "num_chunks": 1, "num_events": 0, "status": 500, "payload_index": 1}',
    '{"id": "r2", "time_to_first_chunk": 0.3, "content_chunk_offsets": [1.5], "num_chunks": 1, "num_events": 2, "status": 200}',
]
STATS = '{"total_requests": 3, "failed_requests": 1, "requests_per_minute": 90.0, "output_tps": 37.5, "time_per_output_token-average": 0.0163265306122449, "cost_total": 1.5, "weird": NaN, "interrupted": true}'
RUN_CONFIG_FLAT = {"endpoint": {"endpoint_name": "e", "model_id": "m", "provider": "p", "api_key": "sk-x", "endpoint_type": "OpenAICompletionStreamEndpoint"}, "output_path": None, "tokenizer": None, "clients": 1, "n_requests": 3, "run_duration": None, "payload": None, "run_name": "run", "run_description": None, "timeout": 60, "callbacks": None, "low_memory": False, "progress_bar_stats": None}
RUN_CONFIG_ENVELOPE = {"endpoint": {"__llmeter_class__": "llmeter.endpoints.openai.OpenAICompletionEndpoint", "__llmeter_state__": {"model_id": "m2", "endpoint_name": "e2", "provider": "openai"}}, "clients": 2, "n_requests": 4, "run_name": "r", "run_description": "d"}
RUN_INFO = {"interrupted": False, "warnings": ["hidden tab"], "runtime": "node 20.20.2", "protocol": "h2", "timer_resolution_ms": 0.001, "clock": "fine", "unsaved": None}
PAYLOADS = '{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 16}\n{"prompt": "h\u00e9"}\n'


def seed(name, present, control, contents):
    data = bytes([present, control]) + b"\xff".join(c.encode() for c in contents)
    with open(os.path.join("result_files", name), "wb") as f:
        f.write(data)


def mask(*names):
    return sum(1 << FILES.index(n) for n in names)


lines = lambda xs, end="\n": end.join(xs) + end
os.makedirs("result_files", exist_ok=True)
full = [lines(RESPONSES), lines(TIMINGS), json.dumps(SUMMARY, indent=4), STATS, json.dumps(RUN_CONFIG_FLAT, indent=4), json.dumps(RUN_INFO, indent=4), PAYLOADS]
seed("full", 0x7F, 0x05, full)
seed("full-folder-varying", 0xFF, 0x80 | 0x13, full)
seed("crlf-blank-lines", mask("responses.jsonl", "chunk_timings.jsonl", "summary.json"), 0x02, [lines(RESPONSES, "\r\n\r\n").rstrip(), lines(TIMINGS, "\r\n"), json.dumps(SUMMARY)])
seed("interrupted-no-summary", mask("responses.jsonl", "run_config.json"), 0x80 | 0x2A, [lines(RESPONSES[:2]), json.dumps(RUN_CONFIG_ENVELOPE)])
seed("stats-only", mask("stats.json", "run_config.json"), 0x00, [STATS, json.dumps(RUN_CONFIG_ENVELOPE)])
seed("bad-line", mask("responses.jsonl", "summary.json"), 0x03, [RESPONSES[0] + "\n{oops\n" + RESPONSES[2], json.dumps(SUMMARY)])
