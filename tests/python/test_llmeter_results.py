"""Our result files against the real Python llmeter, in both directions.

* Rust → Python: `crates/llmeter-core/examples/result_fixture.rs` writes run folders; `llmeter.results.Result.load`
  and `llmeter.experiments.LoadTestResult.load` read them, and every stat LLMeter recomputes or
  carries over must equal our `stats.json` (same value, same int/float type).
* Python → Rust: llmeter writes folders (a hand-built `Result` with a NaN, and a real `Runner`
  run on a fake endpoint); `RunResult::from_files` (via `result_fixture --load`) must produce the
  stats Python shows after `Result.load`.

Run: CARGO_TARGET_DIR=target/h-stats .venv/bin/python -m pytest tests/python/test_llmeter_results.py -q
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import os
import pathlib
import random
import subprocess
import threading
import time
import uuid
from datetime import datetime, timezone

os.environ.setdefault("LLMETER_DISABLE_ALL_PROGRESS_BARS", "1")

import pytest  # noqa: E402
from llmeter.endpoints.base import Endpoint, InvocationResponse  # noqa: E402
from llmeter.experiments import LoadTestResult  # noqa: E402
from llmeter.results import Result  # noqa: E402
from llmeter.runner import Runner  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
DATETIME_KEYS = {"start_time", "first_request_time", "last_request_time", "end_time"}
RESPONSE_KEYS = [
    "response_text", "input_payload", "id", "input_prompt", "time_to_first_token",
    "time_to_last_token", "num_tokens_input", "num_tokens_output", "num_tokens_input_cached",
    "num_tokens_output_reasoning", "time_per_output_token", "error", "retries", "request_time",
]
# Keys our stats add to a Python-written folder whose stats.json lacks them.
TPOT_AND_TPS = {f"time_per_output_token-{s}" for s in ("average", "p50", "p90", "p99")} | {"output_tps"}


def fixture_command(*args: str) -> list[str]:
    return ["cargo", "run", "--quiet", "-p", "llmeter-core", "--example", "result_fixture", "--", *args]


def run_fixture(*args: str) -> str:
    # cargo honours CARGO_TARGET_DIR from the environment by itself.
    done = subprocess.run(fixture_command(*args), cwd=REPO, check=True, capture_output=True, text=True)
    return done.stdout


def rust_load(folder: pathlib.Path) -> dict:
    return json.loads(run_fixture("--load", str(folder)))


def parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def same_value(key: str, ours, theirs) -> bool:
    """Exact equality with the same JSON number type; LLMeter's NaN is our null."""
    if key in DATETIME_KEYS:
        if isinstance(theirs, datetime):
            # LLMeter writes whole seconds; we keep milliseconds. Compare what each side holds.
            return parse_time(ours) == theirs
        return ours == theirs
    if isinstance(theirs, float) and math.isnan(theirs):
        return ours is None
    if isinstance(theirs, bool) or isinstance(ours, bool):
        return ours is theirs
    if isinstance(theirs, (int, float)) and isinstance(ours, (int, float)):
        return type(ours) is type(theirs) and abs(ours - theirs) <= 1e-9 and ours == theirs
    return ours == theirs


def assert_stats_match(ours: dict, theirs: dict, folder: pathlib.Path, extra_in_ours: set[str] = frozenset()):
    assert set(ours) - set(theirs) == set(extra_in_ours)
    assert set(theirs) <= set(ours), f"missing in ours: {set(theirs) - set(ours)}"
    bad = []
    for key, their_value in theirs.items():
        our_value = ours[key]
        if key == "output_path":
            # LLMeter substitutes the folder it loaded from for a null output_path.
            if our_value is None:
                assert str(their_value) == str(folder)
            else:
                assert str(their_value) == our_value
            continue
        if not same_value(key, our_value, their_value):
            bad.append(f"{key}: ours={our_value!r} llmeter={their_value!r}")
    assert not bad, "\n".join(bad)


@pytest.fixture(scope="session")
def fixture_dir(tmp_path_factory) -> pathlib.Path:
    out = tmp_path_factory.mktemp("rust-results")
    written = run_fixture(str(out)).split()
    assert len(written) == 5, written
    return out


def read_stats(folder: pathlib.Path) -> dict:
    return json.loads((folder / "stats.json").read_text())


# ---------------------------------------------------------------- Rust → Python


def test_llmeter_loads_our_run_with_identical_stats(fixture_dir):
    folder = fixture_dir / "run"
    ours = read_stats(folder)
    loaded = Result.load(folder)
    assert_stats_match(ours, loaded.stats, folder)
    # The fixture covers what the stats must handle.
    assert ours["failed_requests"] == 3 and ours["total_requests"] == 50
    assert ours["total_cached_input_tokens"] == 128
    assert ours["num_tokens_input_cached-average"] == 64  # 128 and 0: an int mean
    assert isinstance(ours["num_tokens_output-p90"], float)
    assert ours["time_to_last_token-p99"] > max(
        r.time_to_last_token for r in loaded.responses if r.time_to_last_token is not None
    )  # exclusive-method extrapolation beyond the maximum (N < 99)
    for key in ("time_to_first_chunk-p50", "inter_token_latency-p99", "num_chunks-average", "output_tps"):
        assert key in loaded.stats  # our extras survive LLMeter's load


def test_responses_round_trip_field_by_field(fixture_dir):
    folder = fixture_dir / "run"
    lines = (folder / "responses.jsonl").read_text().split("\n")
    assert lines[-1] == "" and "" not in lines[:-1]
    ours = [json.loads(line) for line in lines[:-1]]
    loaded = Result.load(folder).responses
    assert len(loaded) == len(ours) == 50
    for mine, theirs in zip(ours, loaded):
        assert list(mine) == RESPONSE_KEYS
        for key in RESPONSE_KEYS:
            value = getattr(theirs, key)
            expected = parse_time(mine[key]) if key == "request_time" else mine[key]
            assert value == expected, (mine["id"], key)
        assert theirs.annotations == {}
    broken = [r for r in loaded if r.error and r.time_to_first_token is not None]
    assert len(broken) == 1 and broken[0].time_to_last_token is None


def test_summary_and_run_config_have_llmeter_shape(fixture_dir):
    folder = fixture_dir / "run"
    summary = json.loads((folder / "summary.json").read_text())
    assert list(summary) == [
        "total_requests", "clients", "n_requests", "total_test_time", "model_id", "output_path",
        "endpoint_name", "provider", "run_name", "run_description", "start_time",
        "first_request_time", "last_request_time", "end_time",
    ]
    assert summary["output_path"] is None and summary["n_requests"] == 25
    config_text = (folder / "run_config.json").read_text()
    assert "sk-must-not-be-written" not in config_text and "api_key" not in config_text
    config = json.loads(config_text)
    assert list(config)[:3] == ["endpoint", "output_path", "tokenizer"]
    assert config["endpoint"]["model_id"] == "sim-model"


def test_interrupted_run_keeps_flag_and_null_rate(fixture_dir):
    folder = fixture_dir / "interrupted"
    ours = read_stats(folder)
    loaded = Result.load(folder)
    assert loaded.stats["interrupted"] is True
    assert loaded.stats["requests_per_minute"] is None and loaded.total_test_time is None
    assert loaded.n_requests == 4
    assert_stats_match(ours, loaded.stats, folder)


def test_missing_summary_is_recovered_alike(fixture_dir):
    folder = fixture_dir / "no_summary"
    loaded = Result.load(folder)
    assert (loaded.model_id, loaded.endpoint_name, loaded.provider) == ("sim-model", "llm-sim", "openai")
    assert (loaded.clients, loaded.n_requests, loaded.total_requests) == (2, 5, 10)
    ours = rust_load(folder)
    assert ours["interrupted"] is True
    assert_stats_match(ours["stats"], loaded.stats, folder)


def test_load_test_folder_loads_with_identical_stats(fixture_dir):
    folder = fixture_dir / "loadtest"
    loaded = LoadTestResult.load(folder)
    assert sorted(loaded.results) == [1, 4]
    assert loaded.test_name == "loadtest"
    for clients, name in [(1, "00001-clients"), (4, "00004-clients")]:
        result = loaded.results[clients]
        assert result.total_requests == clients * (10 if clients == 1 else 6)
        assert_stats_match(read_stats(folder / name), result.stats, folder / name)


# ---------------------------------------------------------------- Python → Rust


def hand_built_responses() -> list[InvocationResponse]:
    t0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    rng = random.Random(7)
    responses = []
    for i in range(23):
        ttft = round(rng.uniform(0.1, 0.8), 6)
        out = rng.randint(2, 400)
        ttlt = ttft + out * rng.uniform(0.002, 0.02)
        responses.append(InvocationResponse(
            response_text=f"text {i}",
            input_payload={"prompt": f"p{i}", "blob": b"\x00\x01"},
            id=f"py-{i}",
            input_prompt=f"p{i}",
            time_to_first_token=ttft,
            time_to_last_token=ttlt,
            num_tokens_input=rng.randint(10, 900),
            num_tokens_output=out,
            num_tokens_input_cached=[None, 0, 7][i % 3],
            num_tokens_output_reasoning=3 if i == 5 else None,
            time_per_output_token=(ttlt - ttft) / (out - 1),
            retries=i % 2,
            request_time=t0.replace(second=i),
            annotations={"cost": i} if i == 2 else {},
        ))
    responses[4].time_to_first_token = float("nan")  # written as a bare NaN token
    responses.append(InvocationResponse(response_text=None, id="py-err", error="boom", request_time=t0))
    responses.append(InvocationResponse(
        response_text="par", id="py-broken", error="reset", time_to_first_token=0.33, request_time=t0,
    ))
    return responses


def test_we_load_a_hand_built_python_result(tmp_path):
    result = Result(
        responses=hand_built_responses(),
        total_requests=25,
        clients=1,
        n_requests=25,
        total_test_time=31.25,
        model_id="m",
        endpoint_name="e",
        provider="p",
        run_name="py",
        start_time=datetime(2025, 1, 1, 11, 59, 59, 500000, tzinfo=timezone.utc),
        end_time=datetime(2025, 1, 1, 12, 0, 40, tzinfo=timezone.utc),
    )
    result._update_contributed_stats({"custom_nan": float("nan"), "custom_cost": 1.25})
    result.save(tmp_path)
    assert "NaN" in (tmp_path / "responses.jsonl").read_text()
    assert "NaN" in (tmp_path / "stats.json").read_text()

    theirs = Result.load(tmp_path).stats
    ours = rust_load(tmp_path)
    assert ours["responses"] == 25
    assert ours["stats"]["custom_nan"] is None and ours["stats"]["custom_cost"] == 1.25
    # Python's load path has no TPOT/output_tps keys; we compute them.
    assert_stats_match(ours["stats"], theirs, tmp_path, extra_in_ours=TPOT_AND_TPS)
    assert ours["stats"]["output_tps"] == theirs["total_output_tokens"] / 31.25


class FakeStreamEndpoint(Endpoint):
    """Varied, deterministic latencies and token counts; every seventh request fails."""

    def __init__(self):
        super().__init__(endpoint_name="fake", model_id="fake-model", provider="fakeprov")
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def invoke(self, payload: dict) -> InvocationResponse:
        with self._lock:
            n = next(self._counter)
        rng = random.Random(n)
        sent = datetime.now(timezone.utc)
        time.sleep(0.002)
        if n % 7 == 3:
            return InvocationResponse(response_text=None, id=uuid.uuid4().hex, input_payload=payload,
                                      input_prompt=payload["prompt"], error="simulated failure",
                                      request_time=sent)
        out = rng.randint(5, 300)
        ttft = rng.uniform(0.05, 0.6)
        return InvocationResponse(
            response_text="ok", id=uuid.uuid4().hex, input_payload=payload, input_prompt=payload["prompt"],
            time_to_first_token=ttft, time_to_last_token=ttft + out * rng.uniform(0.003, 0.02),
            num_tokens_input=rng.randint(5, 500), num_tokens_output=out,
            num_tokens_input_cached=rng.choice([None, 0, 16]), request_time=sent,
        )

    def process_raw_response(self, raw_response, start_t, response):  # not used: invoke is direct
        return None


def test_we_load_a_python_runner_folder(tmp_path):
    runner = Runner(endpoint=FakeStreamEndpoint(), output_path=tmp_path, progress_bar_stats={})
    payload = [{"prompt": f"question {i}"} for i in range(6)]
    result = asyncio.run(runner.run(payload=payload, clients=3, n_requests=8, run_name="pyrun"))
    folder = tmp_path / "pyrun"
    assert result.total_requests == 24
    saved = read_stats(folder)
    assert "output_tps" in saved and "time_per_output_token-p99" in saved  # runner-path keys

    theirs = Result.load(folder).stats
    ours = rust_load(folder)
    # Same key set: load-path keys recomputed, runner-path keys carried over from stats.json.
    assert_stats_match(ours["stats"], theirs, folder)
    assert ours["stats"]["output_tps"] == saved["output_tps"]
    assert ours["stats"]["requests_per_minute"] == 24 / result.total_test_time * 60


# ---------------------------------------------------------------- arithmetic


def random_float_lists(rng: random.Random) -> list[list[float]]:
    """Lists that separate exact from naive arithmetic: mixed magnitudes, cancellation,
    subnormals, ties, negative values, tiny and odd/even sizes."""
    lists = [[0.1, 0.2, 0.3], [0.005] * 5, [1e50, 1.0, -1e50] * 7, [5e-324, 5e-324, 0.0], [2.5]]
    for _ in range(300):
        n = rng.choice([1, 2, 3, 4, 5, 8, 9, 10, 50, 98, 99, 100, 257])
        kind = rng.randrange(5)
        if kind == 0:
            values = [rng.uniform(0.0, 2.0) for _ in range(n)]
        elif kind == 1:
            values = [rng.lognormvariate(-3, 2) for _ in range(n)]
        elif kind == 2:
            values = [rng.choice([1e-300, 1e-12, 1.0, 3e8, 1e250]) * rng.uniform(-1, 1) for _ in range(n)]
        elif kind == 3:
            values = [round(rng.uniform(0, 1), rng.randrange(1, 4)) for _ in range(n)]
        else:
            values = [rng.randrange(1, 100) * 5e-324 for _ in range(n)]
        lists.append(values)
    return lists


def test_summary_stats_arithmetic_equals_python_bit_for_bit():
    from llmeter.utils import summary_stats_from_list

    rng = random.Random(2024)
    percentiles = (50, 90, 99, 25, 75, 10, 1, 37)
    floats = random_float_lists(rng)
    ints = [[3, 1, 2], [1, 2], [7], [2**62 + 1, 2**62 + 3, 2**61]] + [
        [rng.randrange(0, rng.choice([2, 10, 1000, 2**40])) for _ in range(rng.randrange(1, 120))]
        for _ in range(200)
    ]
    done = subprocess.run(
        fixture_command("--stats", ",".join(map(str, percentiles))),
        cwd=REPO, check=True, capture_output=True, text=True,
        input=json.dumps({"floats": floats, "ints": ints}),
    )
    ours = json.loads(done.stdout)
    bad = []
    for kind, lists in (("floats", floats), ("ints", ints)):
        for values, mine in zip(lists, ours[kind], strict=True):
            theirs = summary_stats_from_list(values, percentiles)
            assert list(mine) == list(theirs)
            for key, value in theirs.items():
                if type(mine[key]) is not type(value) or mine[key] != value:
                    bad.append(f"{kind} n={len(values)} {key}: ours={mine[key]!r} python={value!r}")
    assert not bad, "\n".join(bad[:20])
