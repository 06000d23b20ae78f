"""Python llmeter and our engine measure the same llm-sim with the same settings, for the
Responses and Messages endpoint families (streamed and not); both sets of files load in
llmeter and agree on request counts, failures, token totals and error texts.

Our engine runs from the built package (`pkg/`, `bash scripts/build.sh`) through
`tests/python/engine_run.mjs`.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import subprocess

os.environ.setdefault("LLMETER_DISABLE_ALL_PROGRESS_BARS", "1")

import pytest  # noqa: E402
from llmeter.endpoints.anthropic_messages import AnthropicMessages, AnthropicMessagesStream  # noqa: E402
from llmeter.endpoints.openai_response import OpenAIResponseEndpoint, OpenAIResponseStreamEndpoint  # noqa: E402
from llmeter.results import Result  # noqa: E402
from llmeter.runner import Runner  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
MODEL = "sim-model"
PROMPTS = ["Tell me about the latency of streams", "And about throughput under load please"]  # 7 and 6 words

# (llmeter class, our family, stream, max-tokens key, how llmeter's client reaches the simulator)
CASES = {
    "OpenAIResponseStreamEndpoint": (OpenAIResponseStreamEndpoint, "openai-responses", True, "max_output_tokens", "/v1"),
    "OpenAIResponseEndpoint": (OpenAIResponseEndpoint, "openai-responses", False, "max_output_tokens", "/v1"),
    "AnthropicMessagesStream": (AnthropicMessagesStream, "anthropic", True, "max_tokens", ""),
    "AnthropicMessages": (AnthropicMessages, "anthropic", False, "max_tokens", ""),
}


def payloads(cls) -> list[dict]:
    # Limits 16 and 32 with a natural length of 20: one answer is cut at its limit (the
    # Responses API then ends with response.incomplete), the other completes.
    key = CASES[cls.__name__][3]
    return [cls.create_payload(PROMPTS[0], **{key: 16}), cls.create_payload(PROMPTS[1], **{key: 32})]


def run_llmeter(cls, sim, headers: dict, folder: pathlib.Path) -> Result:
    _, _, _, _, path = CASES[cls.__name__]
    endpoint = cls(model_id=MODEL, base_url=f"{sim.url}{path}", api_key="sk-cross-check", max_retries=0, default_headers=headers)
    runner = Runner(endpoint=endpoint, output_path=folder, progress_bar_stats={})
    asyncio.run(runner.run(payload=payloads(cls), clients=2, n_requests=4, run_name="python"))
    return Result.load(folder / "python")


def run_engine(cls, sim, headers: dict, folder: pathlib.Path) -> Result:
    _, family, stream, _, _ = CASES[cls.__name__]
    spec = {
        "family": family,
        "options": {"baseUrl": f"{sim.url}/v1", "model": MODEL, "apiKey": "sk-cross-check", "headers": headers, "stream": stream},
        "run": {"payload": payloads(cls), "clients": 2, "nRequests": 4, "runName": "engine"},
    }
    subprocess.run(["node", str(REPO / "tests/python/engine_run.mjs"), json.dumps(spec), str(folder)], check=True, capture_output=True, text=True)
    return Result.load(folder)


def class_name(folder: pathlib.Path) -> str:
    endpoint = json.loads((folder / "run_config.json").read_text())["endpoint"]
    if "__llmeter_class__" in endpoint:  # llmeter 0.2.0's envelope
        return endpoint["__llmeter_class__"].rsplit(".", 1)[1]
    return endpoint["endpoint_type"]


@pytest.mark.parametrize("name", list(CASES))
def test_llmeter_and_engine_agree_on_counts_and_token_totals(start_llm_sim, tmp_path, name):
    cls = CASES[name][0]
    sim = start_llm_sim("--ttft-ms", "20", "--itl-ms", "2", "--output-tokens", "20")
    python = run_llmeter(cls, sim, {}, tmp_path / "py")
    ours = run_engine(cls, sim, {}, tmp_path / "engine")
    for result in (python, ours):
        assert result.total_requests == 8
        assert result.stats["failed_requests"] == 0
    # 4 answers of 16 tokens (cut) and 4 of 20 (complete); prompts of 7 and 6 words.
    assert python.stats["total_output_tokens"] == ours.stats["total_output_tokens"] == 4 * 16 + 4 * 20
    assert python.stats["total_input_tokens"] == ours.stats["total_input_tokens"] == 4 * 7 + 4 * 6
    assert sorted(r.num_tokens_output for r in python.responses) == sorted(r.num_tokens_output for r in ours.responses)
    assert sorted(len(r.response_text.split()) for r in python.responses) == sorted(len(r.response_text.split()) for r in ours.responses)
    streamed = CASES[name][2]
    for result in (python, ours):
        ttfts = [r.time_to_first_token for r in result.responses]
        assert all(t is not None and t >= 0.02 for t in ttfts) if streamed else all(t is None for t in ttfts)
    assert class_name(tmp_path / "py" / "python") == class_name(tmp_path / "engine") == name
    assert "sk-cross-check" not in "".join(p.read_text() for p in (tmp_path / "engine").iterdir())


# The API's own message in each family's error texts (LLMeter's are the SDK's exception texts).
FAILURES = {
    "error-event": {
        "OpenAIResponseStreamEndpoint": "server_error: The model failed to generate a response (mid-stream failure simulated by llm-sim).",
        "OpenAIResponseEndpoint": "server_error: The model failed to generate a response (mid-stream failure simulated by llm-sim).",
        "AnthropicMessagesStream": "Overloaded (mid-stream failure simulated by llm-sim)",
        "AnthropicMessages": "Overloaded (mid-stream failure simulated by llm-sim)",
    },
    "429": {
        "OpenAIResponseStreamEndpoint": "Rate limit reached for requests (simulated by llm-sim)",
        "OpenAIResponseEndpoint": "Rate limit reached for requests (simulated by llm-sim)",
        "AnthropicMessagesStream": "Number of requests has exceeded your rate limit (simulated by llm-sim).",
        "AnthropicMessages": "Number of requests has exceeded your rate limit (simulated by llm-sim).",
    },
}


@pytest.mark.parametrize("fault", list(FAILURES))
@pytest.mark.parametrize("name", list(CASES))
def test_llmeter_and_engine_agree_on_failures_and_error_texts(start_llm_sim, tmp_path, name, fault):
    cls = CASES[name][0]
    sim = start_llm_sim("--ttft-ms", "5", "--itl-ms", "1", "--output-tokens", "20")
    headers = {"x-sim-fault": fault, "x-sim-fault-after-tokens": "3"}
    python = run_llmeter(cls, sim, headers, tmp_path / "py")
    ours = run_engine(cls, sim, headers, tmp_path / "engine")
    message = FAILURES[fault][name]
    for result in (python, ours):
        assert result.total_requests == 8
        assert result.stats["failed_requests"] == 8
        for response in result.responses:
            assert message in response.error, response.error
    if fault == "error-event" and name.startswith("OpenAIResponse"):
        # LLMeter's own format for failed responses: the same text on both sides.
        assert {r.error for r in python.responses} == {r.error for r in ours.responses} == {message}
