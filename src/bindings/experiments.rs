//! Experiment helpers for `js/experiments.js`: the core plans the levels and the heatmap and
//! reads load-test folders; the JS layer runs each run through `Runner.run`.

use super::options::{option_error, range_error, type_error, OptionReader};
use super::tokenizer;
use js_sys::{Array, Object, Reflect};
use llmeter_core::experiments::heatmap;
use llmeter_core::experiments::load_test::plan_levels;
use wasm_bindgen::prelude::*;

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

/// `{sequenceOfClients, minRequestsPerClient?, minRequestsPerRun?, runDuration?}` →
/// `[{clients, nRequests, runDuration, runName}]`.
#[wasm_bindgen(js_name = loadTestLevels)]
pub fn load_test_levels(options: JsValue) -> Result<JsValue, JsValue> {
    let r = OptionReader::new(&options)?;
    let clients = positive_ints(&r, "sequenceOfClients")?
        .ok_or_else(|| type_error("sequenceOfClients is required (an array of client counts)"))?;
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
    let levels = plan_levels(&clients, min_per_client, min_per_run, r.f64("runDuration")?)
        .map_err(|e| option_error(&e))?;
    let out = Array::new();
    for l in levels {
        let o = Object::new();
        Reflect::set(&o, &"clients".into(), &l.clients.into())?;
        Reflect::set(
            &o,
            &"nRequests".into(),
            &l.n_requests
                .map(JsValue::from)
                .unwrap_or(JsValue::UNDEFINED),
        )?;
        Reflect::set(
            &o,
            &"runDuration".into(),
            &l.run_duration_s
                .map(JsValue::from)
                .unwrap_or(JsValue::UNDEFINED),
        )?;
        Reflect::set(&o, &"runName".into(), &l.run_name.into())?;
        out.push(&o);
    }
    Ok(out.into())
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
