"""Runs Python LLMeter's own Bedrock or SageMaker endpoint class against llm-sim and saves the
run folder, for tests/js/aws.node.test.js, which runs the engine with the same settings and
compares both folders (compare_aws_runs.py).

  .venv/bin/python tests/python/llmeter_aws_run.py '<json spec>'

spec: {"family": "converse" | "invoke" | "sagemaker", "stream": bool, "url": sim URL,
       "model": …, "endpoint_name": …, "region": …, "access_key_id": …, "secret_access_key": …,
       "headers": {x-sim-*: …}, "payload": {…}, "clients": n, "n_requests": n,
       "output_path": dir, "run_name": name, **paths (LLMeter's *_jmespath options)}
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

os.environ.setdefault("LLMETER_DISABLE_ALL_PROGRESS_BARS", "1")

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from llmeter.runner import Runner  # noqa: E402


def add_headers(client, headers: dict[str, str]):
    """x-sim-* headers on every request, added before signing (so they are signed)."""
    def add(request, **_):
        for k, v in headers.items():
            request.headers[k] = v
    client.meta.events.register_first("before-sign.*.*", add)


def endpoint_for(spec: dict):
    os.environ["AWS_ACCESS_KEY_ID"] = spec["access_key_id"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = spec["secret_access_key"]
    os.environ.pop("AWS_SESSION_TOKEN", None)
    os.environ["AWS_MAX_ATTEMPTS"] = "1"  # the engine never retries: compare first attempts
    os.environ["AWS_RETRY_MODE"] = "standard"
    region = spec["region"]
    paths = {k: v for k, v in spec.items() if k.endswith("_jmespath")}
    if spec["family"] == "sagemaker":
        from llmeter.endpoints.sagemaker import SageMakerEndpoint, SageMakerStreamEndpoint

        os.environ["AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME"] = spec["url"]
        cls = SageMakerStreamEndpoint if spec["stream"] else SageMakerEndpoint
        endpoint = cls(endpoint_name=spec["endpoint_name"], model_id=spec["model"], region=region, **paths)
        add_headers(endpoint._sagemaker_runtime, spec.get("headers", {}))
        return endpoint
    client = boto3.client(
        "bedrock-runtime", endpoint_url=spec["url"], region_name=region,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )
    add_headers(client, spec.get("headers", {}))
    if spec["family"] == "converse":
        from llmeter.endpoints.bedrock import BedrockConverse, BedrockConverseStream

        cls = BedrockConverseStream if spec["stream"] else BedrockConverse
        return cls(model_id=spec["model"], region=region, bedrock_boto3_client=client, max_attempts=1)
    from llmeter.endpoints.bedrock_invoke import BedrockInvoke, BedrockInvokeStream

    cls = BedrockInvokeStream if spec["stream"] else BedrockInvoke
    return cls(model_id=spec["model"], region=region, bedrock_boto3_client=client, max_attempts=1, **paths)


def main() -> None:
    spec = json.loads(sys.argv[1])
    endpoint = endpoint_for(spec)
    runner = Runner(endpoint, output_path=spec["output_path"], clients=spec["clients"])
    asyncio.run(runner.run(payload=spec["payload"], n_requests=spec["n_requests"], run_name=spec["run_name"]))
    print(os.path.join(spec["output_path"], spec["run_name"]))


if __name__ == "__main__":
    main()
