"""Python LLMeter (PyPI) against llm-sim, for the side-by-side bench (scripts/bench.mjs).

Reads a JSON spec from argv[1]: {"base": url, "runs": [{"clients": n, "perClient": n,
"maxTokens": n}, ...]} and prints one JSON line: a list of {seconds, cpuS, samples: [{id, ttft,
ttlt}]} (ms), one per run, in order. LLMeter's own Runner with its OpenAI streaming endpoint is
used exactly as a user would; CPU is this process's user+system time (threads and any reaped
child processes included) during the run only.
"""

import asyncio
import json
import logging
import resource
import sys
import time

from llmeter.endpoints.openai import OpenAICompletionStreamEndpoint
from llmeter.runner import Runner

logging.disable(logging.WARNING)


def cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def one_run(base: str, clients: int, per_client: int, max_tokens: int) -> dict:
    endpoint = OpenAICompletionStreamEndpoint(model_id="sim-model", base_url=base, api_key="bench", max_retries=0)
    payload = OpenAICompletionStreamEndpoint.create_payload("benchmark me", max_tokens=max_tokens)
    runner = Runner(endpoint=endpoint, clients=clients, n_requests=per_client, payload=payload, progress_bar_stats={})
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    result = await runner.run()
    seconds, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    failed = [r for r in result.responses if r.error]
    if failed:
        raise SystemExit(f"llmeter: {len(failed)} failed: {failed[0].error}")
    samples = [
        {"id": r.id.removeprefix("chatcmpl-"), "ttft": r.time_to_first_token * 1000, "ttlt": r.time_to_last_token * 1000}
        for r in result.responses
    ]
    return {"seconds": seconds, "cpuS": cpu, "samples": samples}


async def main() -> None:
    spec = json.loads(sys.argv[1])
    out = [await one_run(spec["base"], r["clients"], r["perClient"], r["maxTokens"]) for r in spec["runs"]]
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
