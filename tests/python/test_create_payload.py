"""Our `createPayload` against Python LLMeter's own `create_payload`, family by family: the same
message (a string, a list of strings, a list of one string), the output limit given or left at
its default, and extra keyword arguments (LLMeter's named ones — `instructions`, `thinking`,
`inference_parameters` — and plain ones) give the same payload, key order included (so the
same body is sent), and the same inputs are refused. Where we differ on purpose, the documented
difference is asserted instead (docs/ENDPOINTS.md, docs/AWS.md).

Our side runs from the built package (`pkg/`, `bash scripts/build.sh`) through
`tests/python/create_payloads.mjs`.
"""

from __future__ import annotations

import itertools
import json
import os
import pathlib
import subprocess

os.environ.setdefault("LLMETER_DISABLE_ALL_PROGRESS_BARS", "1")

import pytest  # noqa: E402
from llmeter.endpoints.anthropic_messages import AnthropicMessages  # noqa: E402
from llmeter.endpoints.bedrock import BedrockConverse  # noqa: E402
from llmeter.endpoints.bedrock_invoke import BedrockInvoke  # noqa: E402
from llmeter.endpoints.openai import OpenAICompletionEndpoint  # noqa: E402
from llmeter.endpoints.openai_response import OpenAIResponseEndpoint  # noqa: E402
from llmeter.endpoints.sagemaker import SageMakerEndpoint, SageMakerStreamEndpoint  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
OMITTED = object()  # the output limit left at its default
AWS = {"region": "us-east-1", "accessKeyId": "AKIDPAYLOAD", "secretAccessKey": "payload-secret"}

# name: (our endpoint kind and options, LLMeter's create_payload, the name of its limit argument)
FAMILIES = {
    "openai": ("openai", {"baseUrl": "http://127.0.0.1:9/v1", "model": "m"}, OpenAICompletionEndpoint.create_payload, "max_tokens"),
    "responses": ("openai-responses", {"baseUrl": "http://127.0.0.1:9/v1", "model": "m"}, OpenAIResponseEndpoint.create_payload, "max_output_tokens"),
    "anthropic": ("anthropic", {"model": "m"}, AnthropicMessages.create_payload, "max_tokens"),
    "converse": ("bedrockConverse", {**AWS, "model": "m"}, BedrockConverse.create_payload, "max_tokens"),
    "invoke": ("bedrockInvoke", {**AWS, "model": "m"}, BedrockInvoke.create_payload, "max_tokens"),
    "sagemaker": ("sagemaker", {**AWS, "endpointName": "e", "stream": False}, SageMakerEndpoint.create_payload, "max_tokens"),
    "sagemaker-stream": ("sagemaker", {**AWS, "endpointName": "e"}, SageMakerStreamEndpoint.create_payload, "max_tokens"),
}

MESSAGES = ["Tell me about latency", ["First part", "second part"], ["Only one"]]
LIMITS = [64, OMITTED]
# Extra keyword arguments per family: none, LLMeter's named arguments (set, falsy, None), and
# plain keys merged in (some overriding what create_payload sets).
EXTRAS = {
    "openai": [{}, {"temperature": 0.2, "stream_options": {"include_usage": False}}, {"messages": [{"role": "system", "content": "x"}]}],
    "responses": [{}, {"instructions": "Be brief"}, {"instructions": ""}, {"instructions": None}, {"temperature": 0.5, "text": {"format": {"type": "text"}}}],
    "anthropic": [{}, {"thinking": {"type": "enabled", "budget_tokens": 1024}}, {"thinking": None}, {"system": "You are terse", "temperature": 0}],
    "converse": [
        {},
        {"inferenceConfig": {"temperature": 0.1}},
        {"inferenceConfig": None},
        {"inferenceConfig": {"maxTokens": 5, "topP": 0.9}, "system": [{"text": "Be brief"}]},
        {"system": [{"text": "Be brief"}], "additionalModelRequestFields": {"top_k": 5}},
    ],
    "invoke": [{}, {"temperature": 0.3, "stop": ["\n"]}],
    "sagemaker": [{}, {"inference_parameters": {"temperature": 0.1, "details": False}}, {"inference_parameters": {}}, {"inference_parameters": None}, {"custom": 1, "stream": False}],
}
EXTRAS["sagemaker-stream"] = EXTRAS["sagemaker"]
# Refused by both (LLMeter: ValueError or TypeError; ours: RangeError or TypeError).
BAD_LIMITS = [0, -1, 2.5]


def cases(family: str) -> list[tuple]:
    """(message, limit, extra) for one family."""
    grid = list(itertools.product(MESSAGES, LIMITS, EXTRAS[family]))
    return grid + [("Hi", bad, {}) for bad in BAD_LIMITS] + [([], 16, {})]


def ours(family: str, items: list[tuple]) -> list[dict]:
    kind, options, _, _ = FAMILIES[family]
    specs = []
    for message, limit, extra in items:
        spec = {"kind": kind, "options": options, "message": message, "extra": extra}
        if limit is not OMITTED:
            spec["maxTokens"] = limit
        specs.append(spec)
    return run_node(specs)


def run_node(specs: list[dict]) -> list[dict]:
    done = subprocess.run(["node", str(REPO / "tests/python/create_payloads.mjs"), json.dumps(specs)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def llmeter(family: str, message, limit, extra: dict) -> dict:
    _, _, create_payload, limit_name = FAMILIES[family]
    args = {} if limit is OMITTED else {limit_name: limit}
    try:
        # A round trip through JSON: what LLMeter would send (its payloads are JSON bodies).
        return {"payload": json.loads(json.dumps(create_payload(message, **args, **extra)))}
    except (TypeError, ValueError) as e:
        return {"error": type(e).__name__}


def differences(family: str, expected_difference) -> tuple[int, list[str]]:
    """Compares every case of a family; `expected_difference(message, limit, extra, ours,
    theirs)` says whether a case is a documented difference (and asserts its shape)."""
    items = cases(family)
    compared, wrong = 0, []
    for (message, limit, extra), got in zip(items, ours(family, items), strict=True):
        theirs = llmeter(family, message, limit, extra)
        label = f"{family} {message!r} limit={'default' if limit is OMITTED else limit} extra={extra}"
        if expected_difference(message, limit, extra, got, theirs):
            continue
        compared += 1
        if "error" in theirs or "error" in got:
            if not ("error" in theirs and "error" in got):
                wrong.append(f"{label}: ours {got}, LLMeter {theirs}")
            continue
        # Same keys and values, in the same order: the body sent is byte for byte LLMeter's.
        if json.dumps(got["payload"]) != json.dumps(theirs["payload"]):
            wrong.append(f"{label}:\n  ours    {json.dumps(got['payload'])}\n  LLMeter {json.dumps(theirs['payload'])}")
    return compared, wrong


def no_difference(*_) -> bool:
    return False


@pytest.mark.parametrize("family", ["openai", "converse", "invoke", "sagemaker", "sagemaker-stream"])
def test_create_payload_is_llmeters(family):
    compared, wrong = differences(family, no_difference)
    assert compared == len(cases(family))
    assert not wrong, "\n".join(wrong)


def test_create_payload_responses_is_llmeters_but_refuses_limits_it_passes_through():
    # Documented: maxTokens must be a positive integer in every family; LLMeter's Responses
    # create_payload checks nothing and passes 0, -1 or 2.5 on to the API.
    def bad_limit(message, limit, extra, got, theirs):
        if limit not in BAD_LIMITS:
            return False
        assert got["error"] == {"name": "RangeError", "message": "maxTokens must be a positive integer"}
        assert theirs == {"payload": {"input": message, "max_output_tokens": limit}}
        return True

    compared, wrong = differences("responses", bad_limit)
    assert compared == len(cases("responses")) - len(BAD_LIMITS)
    assert not wrong, "\n".join(wrong)


def test_create_payload_anthropic_is_llmeters_for_a_string_and_takes_lists_as_text_blocks():
    # Documented: our createPayload also takes a list of strings (text blocks); LLMeter's raises
    # TypeError for anything but a string.
    def list_message(message, limit, extra, got, theirs):
        if not isinstance(message, list):
            return False
        assert theirs == {"error": "TypeError"}
        if limit in BAD_LIMITS:
            assert got["error"]["name"] == "RangeError"
            return True
        blocks = [{"type": "text", "text": t} for t in message]
        expected = {"messages": [{"role": "user", "content": blocks}], "max_tokens": 256 if limit is OMITTED else limit}
        expected.update({k: v for k, v in extra.items() if not (k == "thinking" and v is None)})
        assert json.dumps(got["payload"]) == json.dumps(expected)
        return True

    compared, wrong = differences("anthropic", list_message)
    assert compared == len([c for c in cases("anthropic") if not isinstance(c[0], list)])
    assert not wrong, "\n".join(wrong)


# docs/AWS.md: the InvokeModel bodies LLMeter has no create_payload for (it builds the OpenAI
# shape only), as the table there gives them.
INVOKE_BODIES = {
    "anthropic": lambda texts, n: {"anthropic_version": "bedrock-2023-05-31", "max_tokens": n, "messages": [{"role": "user", "content": [{"type": "text", "text": t} for t in texts]}]},
    "llama": lambda texts, n: {"prompt": "\n".join(texts), "max_gen_len": n},
    "nova": lambda texts, n: {"schemaVersion": "messages-v1", "messages": [{"role": "user", "content": [{"text": t} for t in texts]}], "inferenceConfig": {"maxTokens": n}},
    "titan": lambda texts, n: {"inputText": "\n".join(texts), "textGenerationConfig": {"maxTokenCount": n}},
}


@pytest.mark.parametrize("body_format", list(INVOKE_BODIES))
def test_create_payload_invoke_model_bodies_as_documented(body_format):
    kind, options, _, _ = FAMILIES["invoke"]
    specs = [
        {"kind": kind, "options": {**options, "bodyFormat": body_format}, "message": message, "maxTokens": 40}
        for message in MESSAGES
    ]
    specs.append({"kind": kind, "options": {**options, "bodyFormat": body_format}, "message": "Hi", "extra": {"temperature": 0.5}})
    specs.append({"kind": kind, "options": {**options, "bodyFormat": body_format}, "message": [], "maxTokens": 40})
    results = run_node(specs)
    build = INVOKE_BODIES[body_format]
    for message, result in zip(MESSAGES, results):
        texts = [message] if isinstance(message, str) else message
        assert json.dumps(result["payload"]) == json.dumps(build(texts, 40)), (message, result)
    # Extra keys are merged in after the body, with the default limit of 256.
    assert result_payload(results[-2]) == {**build(["Hi"], 256), "temperature": 0.5}
    # An empty list is refused, as LLMeter refuses it for the OpenAI body.
    assert results[-1] == {"error": {"name": "TypeError", "message": "user_message must not be empty"}}


def result_payload(result: dict) -> dict:
    assert "payload" in result, result
    return result["payload"]
