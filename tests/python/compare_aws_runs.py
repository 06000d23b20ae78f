"""Loads two run folders in Python LLMeter (`Result.load`) — one written by the engine, one by
LLMeter itself — and prints what each holds as JSON, for tests/js/aws.node.test.js to compare:
counts, token totals, error texts, ids, timings and the endpoint recorded.

  .venv/bin/python tests/python/compare_aws_runs.py <ours> <theirs>
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("LLMETER_DISABLE_ALL_PROGRESS_BARS", "1")

from llmeter.results import Result  # noqa: E402


def summary(folder: str) -> dict:
    result = Result.load(folder)
    responses = result.responses
    ok = [r for r in responses if r.error is None]

    def total(key):
        values = [getattr(r, key) for r in ok]
        return None if any(v is None for v in values) else sum(values)

    return {
        "total_requests": result.total_requests,
        "failed_requests": result.stats["failed_requests"],
        "errors": sorted(r.error for r in responses if r.error is not None),
        "num_tokens_input": total("num_tokens_input"),
        "num_tokens_output": total("num_tokens_output"),
        "num_tokens_input_cached": total("num_tokens_input_cached"),
        "ids": [r.id for r in responses],
        "ttft": [r.time_to_first_token for r in ok],
        "ttlt": [r.time_to_last_token for r in ok],
        "texts": sorted(r.response_text or "" for r in ok),
        "prompts": sorted(str(r.input_prompt) for r in responses),
        "model_id": result.model_id,
        "provider": result.provider,
        "endpoint_name": result.endpoint_name,
    }


if __name__ == "__main__":
    print(json.dumps({"ours": summary(sys.argv[1]), "theirs": summary(sys.argv[2])}))
