"""Writes a real LLMeter load-test folder: Python llmeter's Runner against llm-sim, one run per
concurrency level in `{out}/{NNNNN-clients}/` (the layout LoadTestResult.load reads; LLMeter's own
LoadTest writes levels elsewhere, see the reference). Prints the stats as LLMeter loads them.

Usage: llmeter_write_load_test.py SIM_BASE_URL OUT_DIR
"""
import asyncio
import json
import math
import sys

from llmeter.endpoints.openai import OpenAICompletionStreamEndpoint
from llmeter.experiments import LoadTestResult
from llmeter.runner import Runner


def clean(stats):
    return {k: (v.isoformat() if hasattr(v, "isoformat") else None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in stats.items()}


async def main(base, out):
    endpoint = OpenAICompletionStreamEndpoint(model_id="sim-model", base_url=base, api_key="sk-python-secret", max_retries=0)
    payload = [{"messages": [{"role": "user", "content": f"Question {i}"}], "max_tokens": 8 + i} for i in range(3)]
    for clients in (1, 2):
        runner = Runner(endpoint=endpoint, output_path=out, progress_bar_stats={})
        await runner.run(payload=payload, clients=clients, n_requests=3, run_name=f"{clients:05d}-clients")
    lt = LoadTestResult.load(out)
    print(json.dumps({str(k): clean(r.stats) for k, r in lt.results.items()}))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
