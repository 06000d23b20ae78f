"""Folders written by real runs of the package (tests/python/js_folders.mjs: Node against llm-sim)
loaded by the real Python llmeter 0.2.0:

* every closed-loop folder loads with the stats we wrote (LLMeter recomputes them from the
  responses and carries our extra keys over);
* folders with a CostModel and an annotating callback keep their `annotations`, and every
  `cost_*` key equals what LLMeter's own CostModel computes on the same responses (on the
  successful ones when some failed: LLMeter loses all cost keys then, we do not);
* `run_config.json` loads in LLMeter's run-config loader, also with a CostModel (rebuilt as
  LLMeter's class) and with a custom JS tokenizer (written as null: LLMeter's default);
* warm-up/cool-down and open-loop folders load with the measured responses only.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import subprocess

os.environ.setdefault("LLMETER_DISABLE_ALL_PROGRESS_BARS", "1")
os.environ.setdefault("OPENAI_API_KEY", "not-used")  # the OpenAI endpoint's client wants one

import pytest  # noqa: E402
from llmeter.callbacks.cost.dimensions import EndpointTime, InputTokens, OutputTokens  # noqa: E402
from llmeter.callbacks.cost.model import CostModel  # noqa: E402
from llmeter.experiments import LoadTestResult  # noqa: E402
from llmeter.results import Result  # noqa: E402
from llmeter.runner import _RunConfig  # noqa: E402
from llmeter.tokenizers import DummyTokenizer  # noqa: E402

from test_llmeter_results import assert_stats_match, read_stats, same_value  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def js_runs(tmp_path_factory, llm_sim_binary):
    out = tmp_path_factory.mktemp("js-runs")
    done = subprocess.run(
        ["node", "tests/python/js_folders.mjs", str(out)],
        cwd=REPO, check=True, capture_output=True, text=True,
        env={**os.environ, "LLM_SIM_BIN": str(llm_sim_binary)},
    )
    dims = json.loads(done.stdout.strip().splitlines()[-1])
    return out, dims


def llmeter_cost_model(dims) -> CostModel:
    return CostModel(
        request_dims=[
            InputTokens(dims["input"]["price_per_million"], dims["input"]["granularity"]),
            OutputTokens(dims["output"]["price_per_million"], dims["output"]["granularity"]),
        ],
        run_dims={"endpoint": EndpointTime(dims["endpoint"]["price_per_hour"], dims["endpoint"]["granularity_secs"])},
    )


def without_costs(annotations: dict) -> dict:
    return {k: v for k, v in annotations.items() if not k.startswith("cost_")}


def llmeter_costs(dims, loaded: Result, responses) -> tuple[list[dict], dict]:
    """LLMeter's CostModel run as a callback on `responses`: their cost annotations and the
    stats it contributes."""
    model = llmeter_cost_model(dims)
    fresh = Result(
        responses=responses, total_requests=len(responses), clients=loaded.clients,
        total_test_time=loaded.total_test_time,
    )

    async def run():
        await model.before_run(None)
        for r in fresh.responses:
            r.annotations = without_costs(r.annotations)
            await model.after_invoke(r)
        await model.after_run(fresh)

    asyncio.run(run())
    return [dict(r.annotations) for r in fresh.responses], fresh._contributed_stats


def test_every_closed_loop_folder_loads_with_our_stats(js_runs):
    out, _ = js_runs
    lt = LoadTestResult.load(out / "closed")
    assert sorted(lt.results) == [1, 3]
    for clients, name in [(1, "00001-clients"), (3, "00003-clients")]:
        folder = out / "closed" / name
        assert_stats_match(read_stats(folder), lt.results[clients].stats, folder)
    for name in ["costs", "costs_failed", "phases", "custom_tokenizer"]:
        folder = out / name
        assert_stats_match(read_stats(folder), Result.load(folder).stats, folder)


@pytest.mark.parametrize("name", ["costs", "costs_failed"])
def test_cost_keys_equal_llmeters_own_cost_model(js_runs, name):
    out, dims = js_runs
    folder = out / name
    ours = read_stats(folder)
    loaded = Result.load(folder)
    # Annotations survived: the cost model's and the custom callback's.
    assert all("text_chars" in r.annotations for r in loaded.responses)
    assert all("cost_total" in r.annotations for r in loaded.responses)
    ok = [r for r in loaded.responses if r.error is None]
    failed = [r for r in loaded.responses if r.error is not None]
    assert (len(failed) > 0) == (name == "costs_failed")
    ours_annotations = [dict(r.annotations) for r in ok]
    # LLMeter's reference on the successful responses (with failures it would lose every key).
    ref_annotations, ref_stats = llmeter_costs(dims, loaded, Result.load(folder).responses if not failed else [
        r for r in Result.load(folder).responses if r.error is None
    ])
    for a, b in zip(ours_annotations, ref_annotations):
        assert {k: a[k] for k in a if k.startswith("cost_")} == {k: b[k] for k in b if k.startswith("cost_")}
    for r in failed:
        assert r.annotations["cost_total"] is None
    our_costs = {k: v for k, v in ours.items() if k.startswith("cost_")}
    assert list(our_costs) == list(ref_stats), f"key order: {list(our_costs)} vs {list(ref_stats)}"
    bad = [f"{k}: ours={our_costs[k]!r} llmeter={v!r}" for k, v in ref_stats.items() if not same_value(k, our_costs[k], v)]
    assert not bad, "\n".join(bad)
    # The keys are carried over by LLMeter's Result.load.
    assert {k: loaded.stats[k] for k in our_costs} == our_costs


def test_run_configs_load_in_llmeter(js_runs):
    out, dims = js_runs
    costs = _RunConfig.load(out / "costs")
    assert len(costs.callbacks) == 1 and isinstance(costs.callbacks[0], CostModel)
    model = costs.callbacks[0]
    assert list(model.request_dims) == ["InputTokens", "OutputTokens"]
    assert model.request_dims["OutputTokens"].granularity == dims["output"]["granularity"]
    assert model.run_dims["endpoint"].granularity_secs == dims["endpoint"]["granularity_secs"]
    custom = _RunConfig.load(out / "custom_tokenizer")
    assert isinstance(custom._tokenizer, DummyTokenizer)  # null: LLMeter's default
    info = json.loads((out / "custom_tokenizer" / "run_info.json").read_text())
    assert info["tokenizer"] == {"tokenizer_module": "javascript", "name": "chars"}
    rate = _RunConfig.load(out / "rate")
    assert rate.n_requests >= 1
    for folder in ["closed/00001-clients", "phases"]:
        assert _RunConfig.load(out / folder).clients >= 1


def test_phases_and_open_loops_load_with_the_measured_responses(js_runs):
    out, _ = js_runs
    phases = Result.load(out / "phases")
    assert phases.total_requests == 8 == len(phases.responses)
    assert all("load_phase" not in r.annotations for r in phases.responses)
    excluded = (out / "phases" / "warmup_cooldown.jsonl").read_text().splitlines()
    assert len(excluded) >= 5
    assert_stats_match(read_stats(out / "phases"), phases.stats, out / "phases")
    rate = Result.load(out / "rate")
    assert rate.total_requests == 15
    ours = read_stats(out / "rate")
    assert_stats_match(ours, rate.stats, out / "rate")
    for key in ("schedule_lag-p99", "goodput", "slo_attainment", "slo_attainment-time_to_first_token"):
        assert rate.stats[key] == ours[key]
