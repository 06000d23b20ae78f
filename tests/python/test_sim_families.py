"""llm-sim's Responses and Messages APIs against the reference clients: the official `openai`
SDK (Responses, streamed and not) and `anthropic` SDK (streamed and not) must read the usage
the simulator recorded; LLMeter's own endpoint classes (`OpenAIResponseStreamEndpoint`,
`OpenAIResponseEndpoint`, `AnthropicMessagesStream`, `AnthropicMessages`) must measure it."""

from __future__ import annotations

import anthropic
import httpx2  # the anthropic SDK's HTTP client (openai's is httpx)
import openai
import pytest
from llmeter.endpoints.anthropic_messages import AnthropicMessages, AnthropicMessagesStream
from llmeter.endpoints.openai_response import OpenAIResponseEndpoint, OpenAIResponseStreamEndpoint

MODEL = "sim-model"
PROMPT = "Measure   the latency\nof this\tprompt please"  # 7 words by str.split()


def openai_client(sim, **kwargs) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{sim.url}/v1", api_key="test-key", max_retries=0, **kwargs)


def anthropic_client(sim, **kwargs) -> anthropic.Anthropic:
    # The SDK's base URL has no version: it posts to {base_url}/v1/messages.
    return anthropic.Anthropic(base_url=sim.url, api_key="test-key", max_retries=0, **kwargs)


def words(text: str) -> int:
    return len(text.split())


# ---------------------------------------------------------------- openai Responses


def test_openai_responses_stream_usage_matches_ground_truth(llm_sim):
    client = openai_client(llm_sim)
    events = list(
        client.responses.create(
            model=MODEL,
            input=PROMPT,
            max_output_tokens=32,
            stream=True,
            extra_headers={"x-sim-output-tokens": "20"},
        )
    )
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    final = events[-1].response
    assert final.output_text == text
    truth = llm_sim.record(final.id)
    assert final.usage.input_tokens == truth["input_tokens"] == 7
    assert final.usage.output_tokens == truth["output_tokens"] == 20 == words(text)
    assert final.usage.input_tokens_details.cached_tokens == 0
    assert final.usage.output_tokens_details.reasoning_tokens == 0
    assert truth["stream"] is True and truth["outcome"] == "completed"


def test_openai_responses_helper_reads_reasoning_and_the_raw_stream_incomplete(llm_sim):
    client = openai_client(llm_sim)
    with client.responses.stream(
        model=MODEL,
        input=[{"role": "user", "content": PROMPT}],
        instructions="Be brief.",
        max_output_tokens=32,
        extra_headers={"x-sim-reasoning-tokens": "5", "x-sim-output-tokens": "16"},
    ) as stream:
        seen = [event.type for event in stream]
        final = stream.get_final_response()
    assert "response.reasoning_summary_text.delta" in seen
    assert [item.type for item in final.output] == ["reasoning", "message"]
    truth = llm_sim.record(final.id)
    assert final.usage.input_tokens == truth["input_tokens"] == 2 + 7
    assert final.usage.output_tokens == truth["output_tokens"] == 16
    assert final.usage.output_tokens_details.reasoning_tokens == 5
    assert words(final.output_text) == 16 - 5
    # Cut at max_output_tokens: the stream ends with response.incomplete, as the real API's
    # (the SDK's stream helper waits for response.completed only, so read the raw events).
    events = list(client.responses.create(model=MODEL, input=PROMPT, max_output_tokens=16, stream=True))
    last = events[-1]
    assert last.type == "response.incomplete"
    assert last.response.incomplete_details.reason == "max_output_tokens"
    assert last.response.usage.output_tokens == llm_sim.record(last.response.id)["output_tokens"] == 16


def test_openai_responses_non_streaming_and_failures(llm_sim):
    client = openai_client(llm_sim)
    response = client.responses.create(model=MODEL, input=PROMPT, max_output_tokens=24, extra_headers={"x-sim-output-tokens": "9"})
    assert response.status == "completed"
    truth = llm_sim.record(response.id)
    assert truth["stream"] is False
    assert (response.usage.input_tokens, response.usage.output_tokens) == (truth["input_tokens"], truth["output_tokens"]) == (7, 9)
    assert words(response.output_text) == 9
    failed = client.responses.create(model=MODEL, input=PROMPT, max_output_tokens=24, extra_headers={"x-sim-fault": "error-event"})
    assert failed.status == "failed" and failed.error.code == "server_error"
    with pytest.raises(openai.RateLimitError):
        client.responses.create(model=MODEL, input=PROMPT, extra_headers={"x-sim-fault": "429"})


# ---------------------------------------------------------------- anthropic


def test_anthropic_stream_usage_matches_ground_truth(llm_sim):
    client = anthropic_client(llm_sim)
    events = list(
        client.messages.create(
            model=MODEL,
            max_tokens=64,
            system="Be brief.",
            messages=[{"role": "user", "content": PROMPT}],
            stream=True,
            extra_headers={"x-sim-output-tokens": "12"},
        )
    )
    types = [e.type for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    start = events[0].message
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta")
    output_tokens = [e.usage.output_tokens for e in events if e.type == "message_delta"][-1]
    truth = llm_sim.record(start.id)
    assert start.usage.input_tokens == truth["input_tokens"] == 2 + 7
    assert start.usage.cache_read_input_tokens == 0
    assert output_tokens == truth["output_tokens"] == 12 == words(text)


def test_anthropic_helper_accumulates_thinking_and_text(llm_sim):
    client = anthropic_client(llm_sim)
    with client.messages.stream(
        model=MODEL,
        max_tokens=20,
        messages=[{"role": "user", "content": [{"type": "text", "text": PROMPT}]}],
        extra_headers={"x-sim-reasoning-tokens": "4"},
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].signature, "the signature delta was read"
    assert final.stop_reason == "max_tokens"
    truth = llm_sim.record(final.id)
    assert (final.usage.input_tokens, final.usage.output_tokens) == (truth["input_tokens"], truth["output_tokens"]) == (7, 20)
    assert words(final.content[0].thinking) == 4 and words(final.content[1].text) == 16


def test_anthropic_non_streaming_and_errors(llm_sim):
    client = anthropic_client(llm_sim)
    message = client.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": PROMPT}])
    truth = llm_sim.record(message.id)
    assert truth["stream"] is False
    assert (message.usage.input_tokens, message.usage.output_tokens) == (7, 10) == (truth["input_tokens"], truth["output_tokens"])
    assert words(message.content[0].text) == 10
    with pytest.raises(anthropic.RateLimitError) as raised:
        client.messages.create(model=MODEL, max_tokens=4, messages=[{"role": "user", "content": "x"}], extra_headers={"x-sim-fault": "429"})
    assert raised.value.body["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.APIStatusError) as raised:  # the mid-stream `event: error`
        list(
            client.messages.create(
                model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "x"}], stream=True, extra_headers={"x-sim-fault": "error-event"}
            )
        )
    assert raised.value.body["error"]["type"] == "overloaded_error"
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=0)
    with pytest.raises((anthropic.APIConnectionError, httpx2.HTTPError)):
        list(
            client.messages.create(
                model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "x"}], stream=True, extra_headers={"x-sim-fault": "disconnect"}
            )
        )


# ---------------------------------------------------------------- llmeter's endpoints


def response_kwargs(sim) -> dict:
    return dict(model_id=MODEL, base_url=f"{sim.url}/v1", api_key="test-key", max_retries=0)


def anthropic_kwargs(sim) -> dict:
    return dict(model_id=MODEL, base_url=sim.url, api_key="test-key", max_retries=0)


def check_stream_timing(response, truth):
    ttft, ttlt = response.time_to_first_token, response.time_to_last_token
    server_ttft_s = (truth["first_token_sent_us"] - truth["received_us"]) / 1e6
    server_decode_s = (truth["last_token_sent_us"] - truth["first_token_sent_us"]) / 1e6
    assert server_ttft_s >= 0.020
    assert 0 < ttft < ttlt
    assert ttft >= server_ttft_s, "the client cannot see the first token before it was sent"
    assert ttlt - ttft == pytest.approx(server_decode_s, abs=0.02)


def test_llmeter_response_stream_endpoint_matches_ground_truth(llm_sim):
    endpoint = OpenAIResponseStreamEndpoint(**response_kwargs(llm_sim), default_headers={"x-sim-output-tokens": "14"})
    response = endpoint.invoke(OpenAIResponseStreamEndpoint.create_payload(PROMPT, max_output_tokens=32))
    assert response.error is None, response.error
    truth = llm_sim.record(response.id)
    assert (response.num_tokens_input, response.num_tokens_output) == (truth["input_tokens"], truth["output_tokens"]) == (7, 14)
    assert response.num_tokens_output_reasoning == 0
    assert words(response.response_text) == 14
    check_stream_timing(response, truth)


def test_llmeter_response_endpoint_matches_ground_truth_and_records_failures(llm_sim):
    endpoint = OpenAIResponseEndpoint(**response_kwargs(llm_sim))
    response = endpoint.invoke(OpenAIResponseEndpoint.create_payload(PROMPT, max_output_tokens=16))
    truth = llm_sim.record(response.id)
    assert response.error is None
    assert response.time_to_first_token is None
    assert (response.num_tokens_input, response.num_tokens_output) == (7, 16) == (truth["input_tokens"], truth["output_tokens"])
    failing = OpenAIResponseEndpoint(**response_kwargs(llm_sim), default_headers={"x-sim-fault": "error-event"})
    failed = failing.invoke(OpenAIResponseEndpoint.create_payload(PROMPT, max_output_tokens=16))
    assert failed.error == "server_error: The model failed to generate a response (mid-stream failure simulated by llm-sim)."
    assert failed.time_to_last_token is None


def test_llmeter_anthropic_stream_endpoint_matches_ground_truth(llm_sim):
    endpoint = AnthropicMessagesStream(**anthropic_kwargs(llm_sim), ttft_visible_tokens_only=False)
    response = endpoint.invoke(AnthropicMessagesStream.create_payload(PROMPT, max_tokens=16))
    assert response.error is None, response.error
    truth = llm_sim.record(response.id)
    assert (response.num_tokens_input, response.num_tokens_output) == (truth["input_tokens"], truth["output_tokens"]) == (7, 16)
    assert response.num_tokens_input_cached == 0
    assert response.num_tokens_output_reasoning is None
    assert words(response.response_text) == 16
    check_stream_timing(response, truth)


def test_llmeter_anthropic_endpoint_matches_ground_truth(llm_sim):
    endpoint = AnthropicMessages(**anthropic_kwargs(llm_sim))
    response = endpoint.invoke(AnthropicMessages.create_payload(PROMPT, max_tokens=6))
    truth = llm_sim.record(response.id)
    assert response.error is None
    assert (response.num_tokens_input, response.num_tokens_output) == (7, 6) == (truth["input_tokens"], truth["output_tokens"])
    assert words(response.response_text) == 6
