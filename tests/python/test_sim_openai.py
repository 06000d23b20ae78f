"""llm-sim against the reference clients: the official `openai` SDK and LLMeter's OpenAI
endpoints. Usage and timing they report must agree with the simulator's ground truth."""

from __future__ import annotations

import httpx
import openai
import pytest
from llmeter.endpoints.openai import OpenAICompletionEndpoint, OpenAICompletionStreamEndpoint
from llmeter.tokenizers import DummyTokenizer

MODEL = "sim-model"
PROMPT = "Measure   the latency\nof this\tprompt please"  # 7 words by str.split()


def client_for(sim, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{sim.url}/v1", api_key="test-key", max_retries=0, **kwargs)


def request_id(chat_id: str) -> str:
    assert chat_id.startswith("chatcmpl-"), chat_id
    return chat_id.removeprefix("chatcmpl-")


def test_openai_sdk_streaming_matches_ground_truth(llm_sim):
    client = client_for(llm_sim)
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["length"]
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0].choices == []
    usage = usage_chunks[0].usage
    assert {c.id for c in chunks} == {chunks[0].id}

    truth = llm_sim.record(request_id(chunks[0].id))
    assert usage.prompt_tokens == truth["input_tokens"] == len(PROMPT.split()) == 7
    assert usage.completion_tokens == truth["output_tokens"] == 12
    assert usage.total_tokens == 19
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details.reasoning_tokens == 0
    assert len(text.split()) == usage.completion_tokens
    assert truth["outcome"] == "completed" and truth["stream"] is True


def test_openai_sdk_non_streaming_matches_ground_truth(llm_sim):
    client = client_for(llm_sim)
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": PROMPT}]},
        ],
        max_completion_tokens=9,
    )
    completion = raw.parse()
    assert raw.headers["x-request-id"] == request_id(completion.id)
    assert completion.object == "chat.completion"
    assert completion.model == MODEL
    message = completion.choices[0].message
    assert message.role == "assistant"
    assert completion.choices[0].finish_reason == "length"

    truth = llm_sim.record(raw.headers["x-request-id"])
    assert completion.usage.prompt_tokens == truth["input_tokens"] == 2 + 7
    assert completion.usage.completion_tokens == truth["output_tokens"] == 9
    assert len(message.content.split()) == completion.usage.completion_tokens
    assert truth["stream"] is False


def test_openai_sdk_lists_models(llm_sim):
    models = client_for(llm_sim).models.list()
    assert [m.id for m in models.data] == ["llm-sim"]


@pytest.mark.parametrize(
    ("fault", "error_class", "status"),
    [
        ("429", openai.RateLimitError, 429),
        ("500", openai.InternalServerError, 500),
        ("503", openai.InternalServerError, 503),
    ],
)
def test_openai_sdk_sees_http_faults_as_api_errors(llm_sim, fault, error_class, status):
    client = client_for(llm_sim)
    with pytest.raises(error_class) as raised:
        client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "x"}],
            extra_headers={"x-sim-fault": fault},
        )
    error = raised.value
    assert error.status_code == status
    assert error.response.headers["retry-after"] == "1"
    assert set(error.body) >= {"message", "type", "param", "code"}  # the SDK unwraps {"error": ...}
    assert llm_sim.record(error.response.headers["x-request-id"])["fault"] == fault


def test_openai_sdk_breaks_on_stream_faults(llm_sim):
    client = client_for(llm_sim)
    payload = dict(model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=8, stream=True)

    received = []
    with pytest.raises((openai.APIConnectionError, httpx.HTTPError)):
        for chunk in client.chat.completions.create(**payload, extra_headers={"x-sim-fault": "disconnect"}):
            received.append(chunk)
    contents = [c.choices[0].delta.content for c in received if c.choices and c.choices[0].delta.content]
    assert len(contents) == 4, "half of the tokens arrive before the cut"

    with pytest.raises(Exception) as raised:  # the SDK's JSON decoder rejects the garbage event
        list(client.chat.completions.create(**payload, extra_headers={"x-sim-fault": "malformed-sse"}))
    assert "json" in type(raised.value).__name__.lower() or "json" in str(raised.value).lower()

    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(**payload, extra_headers={"x-sim-fault": "reset"})

    short_timeout = client_for(llm_sim, timeout=httpx.Timeout(0.3))
    with pytest.raises((openai.APITimeoutError, httpx.TimeoutException)):
        list(short_timeout.chat.completions.create(**payload, extra_headers={"x-sim-fault": "stall"}))


def endpoint_kwargs(sim) -> dict:
    return dict(model_id=MODEL, base_url=f"{sim.url}/v1", api_key="test-key", max_retries=0)


def test_llmeter_streaming_endpoint_matches_ground_truth(llm_sim):
    endpoint = OpenAICompletionStreamEndpoint(**endpoint_kwargs(llm_sim))
    payload = OpenAICompletionStreamEndpoint.create_payload(PROMPT, max_tokens=16)
    response = endpoint.invoke(payload)
    assert response.error is None, response.error

    truth = llm_sim.record(request_id(response.id))
    assert response.num_tokens_input == truth["input_tokens"] == 7
    assert response.num_tokens_output == truth["output_tokens"] == 16
    assert response.num_tokens_input_cached == 0
    assert response.num_tokens_output_reasoning == 0
    assert len(response.response_text.split()) == response.num_tokens_output
    # LLMeter's own input-token estimate (DummyTokenizer on its parsed prompt) agrees.
    assert len(DummyTokenizer().encode(endpoint._parse_payload(payload))) == truth["input_tokens"]

    ttft, ttlt = response.time_to_first_token, response.time_to_last_token
    assert 0 < ttft < ttlt
    server_ttft_s = (truth["first_token_sent_us"] - truth["received_us"]) / 1e6
    server_decode_s = (truth["last_token_sent_us"] - truth["first_token_sent_us"]) / 1e6
    assert server_ttft_s >= 0.020
    assert ttft >= server_ttft_s, "the client cannot see the first token before it was sent"
    assert ttlt - ttft == pytest.approx(server_decode_s, abs=0.02)


def test_llmeter_non_streaming_endpoint_matches_ground_truth(llm_sim):
    endpoint = OpenAICompletionEndpoint(**endpoint_kwargs(llm_sim))
    payload = OpenAICompletionEndpoint.create_payload(PROMPT, max_tokens=5)
    response = endpoint.invoke(payload)
    assert response.error is None, response.error

    truth = llm_sim.record(request_id(response.id))
    assert response.num_tokens_input == truth["input_tokens"] == 7
    assert response.num_tokens_output == truth["output_tokens"] == 5
    assert len(response.response_text.split()) == 5
    server_total_s = (truth["done_us"] - truth["received_us"]) / 1e6
    assert response.time_to_last_token >= server_total_s >= 0.020 + 4 * 0.002


def test_llmeter_reports_faults_as_errors(llm_sim):
    endpoint = OpenAICompletionStreamEndpoint(
        **endpoint_kwargs(llm_sim), default_headers={"x-sim-fault": "429"}
    )
    response = endpoint.invoke(OpenAICompletionStreamEndpoint.create_payload("hi", max_tokens=3))
    assert response.error is not None and "429" in response.error


def test_input_token_rule_matches_python_str_split(start_llm_sim):
    sim = start_llm_sim()
    tricky = "tabs\tand\u00a0nbsp\u3000ideographic\x1cfile-sep  \n\n trailing "
    messages = [
        {"role": "system", "content": tricky},
        {"role": "user", "content": [{"type": "text", "text": "two words"}, {"type": "text", "text": ""}]},
    ]
    completion = client_for(sim).chat.completions.create(model=MODEL, messages=messages, max_tokens=1)
    assert completion.usage.prompt_tokens == len("\n".join([tricky, "two words", ""]).split()) == 8
    assert sim.record(request_id(completion.id))["input_tokens"] == 8
