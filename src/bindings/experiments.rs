//! Experiment helpers for `js/experiments.js`: the core plans the levels and the heatmap and
//! reads load-test folders; the JS layer runs each run through `Runner.run`.

use super::options::{option_error, range_error, type_error, OptionReader};
use super::result::WasmRunResult;
use super::tokenizer;
use js_sys::{Array, Object, Reflect};
use llmeter_core::experiments::heatmap::{self, CellRequest, HeatmapPlan};
use llmeter_core::experiments::load_test::{
    plan_levels, plan_rate_levels, planned_requests, successful_rate, sweep_rates,
};
use llmeter_core::result::{default_run_name, load_test_rate_run_name, load_test_run_name};
use wasm_bindgen::prelude::*;

fn positive_numbers(r: &OptionReader, key: &str) -> Result<Option<Vec<f64>>, JsValue> {
    let Some(v) = r.value(key) else {
        return Ok(None);
    };
    if !Array::is_array(&v) {
        return Err(type_error(&format!(
            "{key} must be an array of positive numbers"
        )));
    }
    Array::from(&v)
        .iter()
        .map(|x| {
            x.as_f64().ok_or_else(|| {
                type_error(&format!(
                    "{key} must hold numbers, got {}",
                    super::options::js_text(&x)
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn positive_ints(r: &OptionReader, key: &str) -> Result<Option<Vec<u32>>, JsValue> {
    let Some(v) = r.value(key) else {
        return Ok(None);
    };
    if !Array::is_array(&v) {
        return Err(type_error(&format!(
            "{key} must be an array of positive integers"
        )));
    }
    Array::from(&v)
        .iter()
        .map(|x| match x.as_f64() {
            Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => Ok(n as u32),
            _ => Err(range_error(&format!(
                "{key} must hold positive integers, got {}",
                super::options::js_text(&x)
            ))),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `{sequenceOfClients | sequenceOfRates, minRequestsPerClient?, minRequestsPerRun?,
/// runDuration?}` → `{levels: [{clients, nRequests, runDuration, runName} | {rate, nRequests,
/// runDuration, runName}], plannedRequests}` (requests in all, for a subrequest budget).
#[wasm_bindgen(js_name = loadTestLevels)]
pub fn load_test_levels(options: JsValue) -> Result<JsValue, JsValue> {
    let r = OptionReader::new(&options)?;
    let rates = positive_numbers(&r, "sequenceOfRates")?;
    let clients = positive_ints(&r, "sequenceOfClients")?;
    let (clients, rates) = match (clients, rates) {
        (Some(_), Some(_)) => {
            return Err(type_error(
                "give sequenceOfClients (closed loops) or sequenceOfRates (open loops), not both",
            ))
        }
        (None, None) => {
            return Err(type_error(
                "sequenceOfClients (an array of client counts) or sequenceOfRates (an array of requests per second) is required",
            ))
        }
        (clients, rates) => (clients.unwrap_or_default(), rates),
    };
    let min_per_client = r.positive_int("minRequestsPerClient")?.unwrap_or(1);
    let min_per_run = match r.f64("minRequestsPerRun")? {
        None => 10,
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => n as u32,
        Some(n) => {
            return Err(range_error(&format!(
                "minRequestsPerRun must be a non-negative integer, got {}",
                llmeter_core::json::num(n)
            )))
        }
    };
    let duration = r.f64("runDuration")?;
    let out = Array::new();
    if let Some(rates) = rates {
        let levels =
            plan_rate_levels(&rates, min_per_run, duration).map_err(|e| option_error(&e))?;
        for l in &levels {
            out.push(&level_js(
                ("rate", l.rate.into()),
                l.n_requests,
                l.run_duration_s,
                &l.run_name,
            )?);
        }
        return planned(out, planned_requests(&[], &levels));
    }
    let levels = plan_levels(&clients, min_per_client, min_per_run, duration)
        .map_err(|e| option_error(&e))?;
    let total = planned_requests(&levels, &[]);
    for l in &levels {
        out.push(&level_js(
            ("clients", l.clients.into()),
            l.n_requests,
            l.run_duration_s,
            &l.run_name,
        )?);
    }
    planned(out, total)
}

/// One planned level as JS sees it: `{clients | rate, nRequests, runDuration, runName}`, the
/// bound the level does not have `undefined`.
fn level_js(
    (key, value): (&str, JsValue),
    n_requests: Option<u32>,
    run_duration_s: Option<f64>,
    run_name: &str,
) -> Result<JsValue, JsValue> {
    let or_undefined = |v: Option<JsValue>| v.unwrap_or(JsValue::UNDEFINED);
    let o = Object::new();
    Reflect::set(&o, &key.into(), &value)?;
    Reflect::set(
        &o,
        &"nRequests".into(),
        &or_undefined(n_requests.map(JsValue::from)),
    )?;
    Reflect::set(
        &o,
        &"runDuration".into(),
        &or_undefined(run_duration_s.map(JsValue::from)),
    )?;
    Reflect::set(&o, &"runName".into(), &run_name.into())?;
    Ok(o.into())
}

fn planned(levels: Array, total: u64) -> Result<JsValue, JsValue> {
    let o = Object::new();
    Reflect::set(&o, &"levels".into(), &levels)?;
    Reflect::set(&o, &"plannedRequests".into(), &(total as f64).into())?;
    Ok(o.into())
}

/// GuideLLM's sweep rates after its synchronous and throughput runs: `size − 2` rates from the
/// synchronous run's successful rate to the throughput run's (see `load_test::sweep_rates`).
#[wasm_bindgen(js_name = sweepRates)]
pub fn sweep_rates_js(
    synchronous: &WasmRunResult,
    throughput: &WasmRunResult,
    size: u32,
) -> Result<Vec<f64>, JsValue> {
    let (Some(low), Some(high)) = (
        successful_rate(synchronous.inner()),
        successful_rate(throughput.inner()),
    ) else {
        return Err(js_sys::Error::new(
            "sweep: the synchronous or throughput run has no successful requests or no duration, so no rates can be derived",
        )
        .into());
    };
    Ok(sweep_rates(low, high, size))
}

/// LLMeter's default run and test name for a Unix time in ms, `YYYYMMDD-HHMM` (UTC).
#[wasm_bindgen(js_name = defaultRunName)]
pub fn default_run_name_js(unix_ms: f64) -> String {
    default_run_name(unix_ms)
}

/// Checks a test name, which names the folder of a test's runs (the core's folder-name rule:
/// not empty, not `.`/`..`, no slashes or control characters): a `RangeError` naming `testName`.
#[wasm_bindgen(js_name = checkTestName)]
pub fn check_test_name(name: &str) -> Result<(), JsValue> {
    llmeter_core::result::naming::check_folder_name("testName", name).map_err(|e| option_error(&e))
}

/// Folder name of a load-test level: `NNNNN-clients`, or `NNNNN.NNN-rps` for a rate.
#[wasm_bindgen(js_name = levelFolderName)]
pub fn level_folder_name(clients: Option<u32>, rate: Option<f64>) -> Result<String, JsValue> {
    match (clients, rate) {
        (_, Some(rate)) => Ok(load_test_rate_run_name(rate)),
        (Some(c), None) => Ok(load_test_run_name(c)),
        (None, None) => Err(type_error("a level has clients or a rate")),
    }
}

/// The heatmap cell (`input * outputs + output`) of each response, `-1` for none: `requests`
/// is the plan's `[input, output, input, output, …]` (`heatmap.json`'s `requests`),
/// `payload_indexes` each response's `payload_index` (`-1` when it has none). Taken as numbers,
/// not as a result handle, so a result loaded by the fleet module works too.
#[wasm_bindgen(js_name = heatmapCellOf)]
pub fn heatmap_cell_of(
    requests: Vec<u32>,
    inputs: u32,
    outputs: u32,
    payload_indexes: Vec<i32>,
) -> Vec<i32> {
    let plan = HeatmapPlan {
        input_lengths: vec![0; inputs as usize],
        output_lengths: vec![0; outputs as usize],
        requests_per_combination: 1,
        prompts: Vec::new(),
        requests: requests
            .chunks_exact(2)
            .map(|p| CellRequest {
                input: p[0],
                output: p[1],
            })
            .collect(),
    };
    payload_indexes
        .iter()
        .map(|&k| {
            u32::try_from(k)
                .ok()
                .and_then(|k| plan.cell_of(k))
                .map_or(-1, |cell| cell as i32)
        })
        .collect()
}
/// `{sourceText, inputLengths, outputLengths, requestsPerCombination, tokenizer?, seed?}` →
/// the plan as JSON text (`heatmap.json`: prompts per input length, cell of each payload);
/// text rather than a JS object keeps serializer code out of the core module.
#[wasm_bindgen(js_name = heatmapPlan)]
pub fn heatmap_plan(options: JsValue) -> Result<JsValue, JsValue> {
    let r = OptionReader::new(&options)?;
    let source = r
        .string("sourceText")?
        .ok_or_else(|| type_error("sourceText is required"))?;
    let inputs = positive_ints(&r, "inputLengths")?.unwrap_or_else(|| vec![10, 50, 200, 500]);
    let outputs = positive_ints(&r, "outputLengths")?.unwrap_or_else(|| vec![128, 256, 512, 1024]);
    let per_cell = r.positive_int("requestsPerCombination")?.unwrap_or(1);
    let tokenizer = tokenizer::from_option(r.value("tokenizer"))?;
    let seed = r.f64("seed")?.unwrap_or(0.0) as u64;
    let plan = heatmap::plan(
        &source,
        &inputs,
        &outputs,
        per_cell,
        tokenizer.as_ref(),
        seed,
    )
    .map_err(|e| option_error(&e))?;
    Ok(JsValue::from_str(&llmeter_core::json::to_pretty(&plan)))
}
