"""llm-sim's Bedrock and SageMaker routes against the real AWS clients (boto3 `bedrock-runtime`
and `sagemaker-runtime` with `endpoint_url` at the simulator): the signatures it accepts and
refuses are botocore's, its event streams are read by botocore's decoder, and the usage each SDK
reads equals the simulator's ground truth. Then LLMeter's own Bedrock and SageMaker endpoint
classes against it.

Run: .venv/bin/python -m pytest tests/python/test_aws_sim.py -q
"""

from __future__ import annotations

import datetime
import json
import os
from unittest import mock

import boto3
import botocore.auth
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

KEY_ID = "AKIDLLMSIM"
SECRET = "llm-sim-secret-key"
TOKEN = "llm-sim-session-token"
API_KEY = "llm-sim-bedrock-api-key"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0"
PROMPT = "Measure the latency of this prompt please"  # 7 words

AUTH_FLAGS = (
    "--aws-access-key-id", KEY_ID, "--aws-secret-access-key", SECRET,
    "--aws-session-token", TOKEN, "--bedrock-api-key", API_KEY,
)


@pytest.fixture(scope="module")
def aws_sim(llm_sim_binary):
    from conftest import SimProcess

    sim = SimProcess(llm_sim_binary, [*AUTH_FLAGS, "--ttft-ms", "20", "--itl-ms", "2", "--seed", "2"])
    yield sim
    assert sim.stop() == 0


def client(sim, service="bedrock-runtime", secret=SECRET, token=TOKEN, **kwargs):
    return boto3.client(
        service, endpoint_url=sim.url, region_name="us-east-1",
        aws_access_key_id=KEY_ID, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}), **kwargs,
    )


def with_sim_headers(boto_client, headers: dict[str, str]):
    """Adds x-sim-* headers before signing (so they are signed, as any header boto3 sends)."""
    def add(request, **_):
        for k, v in headers.items():
            request.headers[k] = v
    boto_client.meta.events.register_first("before-sign.*.*", add)
    return boto_client


def converse_request(max_tokens=9):
    return dict(
        modelId=CLAUDE,
        messages=[{"role": "user", "content": [{"text": PROMPT}]}],
        system=[{"text": "Be brief."}],
        inferenceConfig={"maxTokens": max_tokens},
    )


def test_boto3_converse_matches_ground_truth(aws_sim):
    response = client(aws_sim).converse(**converse_request())
    request_id = response["ResponseMetadata"]["RequestId"]
    truth = aws_sim.record(request_id)
    text = "".join(part["text"] for part in response["output"]["message"]["content"])
    assert response["usage"]["inputTokens"] == truth["input_tokens"] == 7 + 2
    assert response["usage"]["outputTokens"] == truth["output_tokens"] == 9 == len(text.split())
    assert response["stopReason"] == "max_tokens"
    assert truth["stream"] is False and truth["outcome"] == "completed"


def test_boto3_converse_stream_matches_ground_truth(aws_sim):
    response = client(aws_sim).converse_stream(**converse_request(6))
    events = list(response["stream"])
    kinds = [next(iter(e)) for e in events]
    assert kinds == ["messageStart"] + ["contentBlockDelta"] * 6 + ["contentBlockStop", "messageStop", "metadata"]
    text = "".join(e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e)
    usage = events[-1]["metadata"]["usage"]
    truth = aws_sim.record(response["ResponseMetadata"]["RequestId"])
    assert usage["inputTokens"] == truth["input_tokens"] == 9
    assert usage["outputTokens"] == truth["output_tokens"] == 6 == len(text.split())
    assert truth["stream"] is True


@pytest.mark.parametrize(
    ("model", "body", "text_of", "usage_of"),
    [
        (CLAUDE, {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5, "messages": [{"role": "user", "content": [{"type": "text", "text": PROMPT}]}]},
         lambda b: b["content"][0]["text"], lambda b: (b["usage"]["input_tokens"], b["usage"]["output_tokens"])),
        ("meta.llama3-8b-instruct-v1:0", {"prompt": PROMPT, "max_gen_len": 5},
         lambda b: b["generation"], lambda b: (b["prompt_token_count"], b["generation_token_count"])),
        ("amazon.nova-micro-v1:0", {"schemaVersion": "messages-v1", "messages": [{"role": "user", "content": [{"text": PROMPT}]}], "inferenceConfig": {"maxTokens": 5}},
         lambda b: b["output"]["message"]["content"][0]["text"], lambda b: (b["usage"]["inputTokens"], b["usage"]["outputTokens"])),
        ("amazon.titan-text-lite-v1", {"inputText": PROMPT, "textGenerationConfig": {"maxTokenCount": 5}},
         lambda b: b["results"][0]["outputText"], lambda b: (b["inputTextTokenCount"], b["results"][0]["tokenCount"])),
        ("openai.gpt-oss-20b-1:0", {"messages": [{"role": "user", "content": [{"text": PROMPT, "type": "text"}]}], "max_tokens": 5},
         lambda b: b["choices"][0]["message"]["content"], lambda b: (b["usage"]["prompt_tokens"], b["usage"]["completion_tokens"])),
    ],
)
def test_boto3_invoke_model_each_family(aws_sim, model, body, text_of, usage_of):
    bedrock = client(aws_sim)
    response = bedrock.invoke_model(modelId=model, body=json.dumps(body), accept="application/json", contentType="application/json")
    parsed = json.loads(response["body"].read())
    truth = aws_sim.record(response["ResponseMetadata"]["RequestId"])
    assert usage_of(parsed) == (truth["input_tokens"], truth["output_tokens"]) == (7, 5)
    assert len(text_of(parsed).split()) == 5
    stream = bedrock.invoke_model_with_response_stream(modelId=model, body=json.dumps(body), accept="application/json", contentType="application/json")
    chunks = [json.loads(e["chunk"]["bytes"]) for e in stream["body"]]
    metrics = chunks[-1]["amazon-bedrock-invocationMetrics"]
    truth = aws_sim.record(stream["ResponseMetadata"]["RequestId"])
    assert (metrics["inputTokenCount"], metrics["outputTokenCount"]) == (truth["input_tokens"], truth["output_tokens"]) == (7, 5)


@pytest.mark.parametrize("line_format", ["tgi", "lmi"])
def test_boto3_sagemaker_matches_ground_truth(aws_sim, line_format):
    runtime = with_sim_headers(client(aws_sim, "sagemaker-runtime"), {"x-sim-line-format": line_format})
    body = json.dumps({"inputs": PROMPT, "parameters": {"max_new_tokens": 4, "details": True}})
    whole = runtime.invoke_endpoint(EndpointName="my-tgi-endpoint", Body=body, ContentType="application/json")
    parsed = json.loads(whole["Body"].read())
    truth = aws_sim.record(whole["ResponseMetadata"]["RequestId"])
    assert parsed["details"]["generated_tokens"] == truth["output_tokens"] == 4
    assert truth["input_tokens"] == 7
    stream = runtime.invoke_endpoint_with_response_stream(EndpointName="my-tgi-endpoint", Body=body, ContentType="application/json")
    raw = b"".join(e["PayloadPart"]["Bytes"] for e in stream["Body"])
    lines = [json.loads(l.removeprefix("data:")) for l in raw.decode().splitlines() if l]
    assert [l["token"]["text"] for l in lines] == [" The", " quick", " brown", " fox"]
    assert lines[-1]["details"]["generated_tokens"] == aws_sim.record(stream["ResponseMetadata"]["RequestId"])["output_tokens"] == 4


def test_bad_signatures_are_refused_as_aws_does(aws_sim):
    with pytest.raises(ClientError) as raised:
        client(aws_sim, secret="not-the-secret").converse(**converse_request())
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidSignatureException"
    assert error["Message"].startswith("The request signature we calculated does not match")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # A request signed 10 minutes ago.
    ten_minutes_ago = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=10)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=ten_minutes_ago):
        with pytest.raises(ClientError) as raised:
            client(aws_sim).converse(**converse_request())
    assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"
    assert raised.value.response["Error"]["Message"].startswith(f"Signature expired: {ten_minutes_ago:%Y%m%dT%H%M%S}Z is now earlier than")
    # A missing session token.
    with pytest.raises(ClientError) as raised:
        client(aws_sim, token=None).converse(**converse_request())
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"
    with pytest.raises(ClientError) as raised:
        client(aws_sim, "sagemaker-runtime", secret="nope").invoke_endpoint(EndpointName="e", Body=b"{}", ContentType="application/json")
    assert raised.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_bedrock_api_keys_as_boto3_sends_them(aws_sim, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", API_KEY)
    bedrock = boto3.client("bedrock-runtime", endpoint_url=aws_sim.url, region_name="us-east-1",
                           config=Config(retries={"max_attempts": 1}))
    response = bedrock.converse(**converse_request(3))
    assert response["usage"]["outputTokens"] == 3
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "wrong-key")
    bedrock = boto3.client("bedrock-runtime", endpoint_url=aws_sim.url, region_name="us-east-1",
                           config=Config(retries={"max_attempts": 1}))
    with pytest.raises(ClientError) as raised:
        bedrock.converse(**converse_request(3))
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_faults_as_boto3_sees_them(aws_sim):
    throttled = with_sim_headers(client(aws_sim), {"x-sim-fault": "429"})
    with pytest.raises(ClientError) as raised:
        throttled.converse(**converse_request())
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    # botocore marks a retryable error that used up its attempts (the engine never retries).
    assert str(raised.value) == "An error occurred (ThrottlingException) when calling the Converse operation (reached max retries: 1): Too many requests, please wait before trying again. (simulated by llm-sim)"
    failing = with_sim_headers(client(aws_sim), {"x-sim-fault": "error-event", "x-sim-fault-after-tokens": "2"})
    response = failing.converse_stream(**converse_request())
    seen = []
    with pytest.raises(EventStreamError) as raised:
        for event in response["stream"]:
            seen.append(event)
    assert str(raised.value) == "An error occurred (modelStreamErrorException) when calling the ConverseStream operation: The model stream failed. (simulated by llm-sim)"
    assert sum("contentBlockDelta" in e for e in seen) == 2
    garbled = with_sim_headers(client(aws_sim), {"x-sim-fault": "malformed-sse"})
    with pytest.raises(Exception) as raised:
        list(garbled.converse_stream(**converse_request())["stream"])
    assert "checksum" in type(raised.value).__name__.lower() or "crc" in str(raised.value).lower()


# ---------- LLMeter's own endpoint classes ----------

@pytest.fixture
def aws_env(aws_sim, monkeypatch):
    """Credentials and the SageMaker endpoint URL as LLMeter's clients find them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", aws_sim.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return aws_sim


def test_llmeter_bedrock_converse_stream(aws_env):
    from llmeter.endpoints.bedrock import BedrockConverseStream

    endpoint = BedrockConverseStream(model_id=CLAUDE, region="us-east-1", bedrock_boto3_client=client(aws_env))
    response = endpoint.invoke(BedrockConverseStream.create_payload(PROMPT, max_tokens=8))
    assert response.error is None, response.error
    truth = aws_env.record(response.id)
    assert (response.num_tokens_input, response.num_tokens_output) == (truth["input_tokens"], truth["output_tokens"]) == (7, 8)
    server_ttft = (truth["first_token_sent_us"] - truth["received_us"]) / 1e6
    assert response.time_to_first_token >= server_ttft >= 0.020
    assert response.time_to_last_token > response.time_to_first_token


def test_llmeter_bedrock_invoke_stream(aws_env):
    from llmeter.endpoints.bedrock_invoke import BedrockInvokeStream

    endpoint = BedrockInvokeStream(model_id="openai.gpt-oss-20b-1:0", region="us-east-1", bedrock_boto3_client=client(aws_env))
    response = endpoint.invoke(BedrockInvokeStream.create_payload(PROMPT, max_tokens=5))
    assert response.error is None, response.error
    truth = aws_env.record(response.id.removeprefix("chatcmpl-"))
    assert (response.num_tokens_input, response.num_tokens_output) == (truth["input_tokens"], truth["output_tokens"]) == (7, 5)
    assert len(response.response_text.split()) == 5


def test_llmeter_sagemaker_stream(aws_env):
    from llmeter.endpoints.sagemaker import SageMakerStreamEndpoint

    endpoint = SageMakerStreamEndpoint(endpoint_name="my-tgi-endpoint", model_id="tgi-model", region="us-east-1")
    response = endpoint.invoke(SageMakerStreamEndpoint.create_payload(PROMPT, max_tokens=6))
    assert response.error is None, response.error
    truth = aws_env.record(response.id)
    assert response.num_tokens_output == truth["output_tokens"] == 6
    assert response.time_to_first_token > 0
