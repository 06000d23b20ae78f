//! Reads JS option objects into core types, throwing `TypeError`/`RangeError` that name the
//! option — before any request is sent.

use js_sys::{Array, Function, Reflect};
use llmeter_core::result::naming::check_folder_name;
use llmeter_core::runner::{Arrival, LoadModel, PayloadAssignment, Phase, RunOptions, Slo};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub use llmeter_result_js::{option_error, range_error, type_error};

/// A JS value as a short text for messages (`String(v)`, or its type), never `JsValue(…)`.
pub fn js_text(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return format!("{}: {}", String::from(e.name()), String::from(e.message()));
    }
    if let Some(s) = v.as_string() {
        return format!("{s:?}");
    }
    if v.is_object() && !js_sys::Array::is_array(v) {
        return "an object".into();
    }
    string_of(v).chars().take(80).collect()
}

/// Whether `v` is a promise handed back where a value was wanted (a user's `async` function).
/// Its rejection is marked handled — the caller reports the misuse — so it cannot surface as an
/// unhandled rejection, which ends a Node process.
pub fn defuse_promise(v: &JsValue) -> bool {
    let Some(promise) = v.dyn_ref::<js_sys::Promise>() else {
        return false;
    };
    // Any function marks it handled; a built-in one leaves no Rust closure behind.
    if let Ok(handler) = Reflect::get(&js_sys::global(), &"Boolean".into()) {
        if let Ok(then) = Reflect::get(promise, &"then".into()) {
            if let Some(then) = then.dyn_ref::<Function>() {
                let _ = then.call2(promise, &JsValue::UNDEFINED, &handler);
            }
        }
    }
    true
}

#[wasm_bindgen]
extern "C" {
    /// JS `String(v)` (numbers, booleans, null, undefined, arrays).
    #[wasm_bindgen(js_name = String)]
    fn string_of(v: &JsValue) -> String;
}

pub struct OptionReader<'a> {
    obj: &'a JsValue,
}

impl<'a> OptionReader<'a> {
    pub fn new(obj: &'a JsValue) -> Result<Self, JsValue> {
        if !obj.is_object() {
            return Err(type_error("options must be an object"));
        }
        Ok(OptionReader { obj })
    }

    pub fn value(&self, key: &str) -> Option<JsValue> {
        Reflect::get(self.obj, &key.into())
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    }

    pub fn f64(&self, key: &str) -> Result<Option<f64>, JsValue> {
        match self.value(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(n) if n.is_finite() => Ok(Some(n)),
                Some(_) => Err(range_error(&format!("{key} must be a finite number"))),
                None => Err(type_error(&format!("{key} must be a number"))),
            },
        }
    }

    pub fn positive_int(&self, key: &str) -> Result<Option<u32>, JsValue> {
        match self.f64(key)? {
            None => Ok(None),
            Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => Ok(Some(n as u32)),
            Some(n) => Err(range_error(&format!(
                "{key} must be a positive integer, got {}",
                llmeter_core::json::num(n)
            ))),
        }
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, JsValue> {
        match self.value(key) {
            None => Ok(None),
            Some(v) => v
                .as_string()
                .map(Some)
                .ok_or_else(|| type_error(&format!("{key} must be a string"))),
        }
    }

    pub fn function(&self, key: &str) -> Result<Option<Function>, JsValue> {
        match self.value(key) {
            None => Ok(None),
            Some(v) => v
                .dyn_into::<Function>()
                .map(Some)
                .map_err(|_| type_error(&format!("{key} must be a function"))),
        }
    }

    pub fn object(&self, key: &str) -> Result<Option<JsValue>, JsValue> {
        match self.value(key) {
            None => Ok(None),
            Some(v) if v.is_object() => Ok(Some(v)),
            Some(_) => Err(type_error(&format!("{key} must be an object"))),
        }
    }
}

pub use llmeter_result_js::to_json;

/// `warmup` / `cooldown`: a number of requests, `{requests: n}` or `{seconds: s}`.
fn phase(r: &OptionReader, key: &str) -> Result<Phase, JsValue> {
    let Some(v) = r.value(key) else {
        return Ok(Phase::None);
    };
    let count = |n: f64| -> Result<Phase, JsValue> {
        if n >= 1.0 && n.fract() == 0.0 && n <= 9.0e15 {
            Ok(Phase::Requests(n as u64))
        } else {
            Err(range_error(&format!(
                "{key} must be a positive integer number of requests, {{requests: n}} or {{seconds: s}}, got {}",
                llmeter_core::json::num(n)
            )))
        }
    };
    if let Some(n) = v.as_f64() {
        return count(n);
    }
    if !v.is_object() {
        return Err(type_error(&format!(
            "{key} must be a number of requests, {{requests: n}} or {{seconds: s}}"
        )));
    }
    let o = OptionReader::new(&v)?;
    match (o.f64("requests")?, o.f64("seconds")?) {
        (Some(n), None) => count(n),
        (None, Some(s)) => Ok(Phase::Seconds(s)),
        _ => Err(type_error(&format!(
            "{key} must have either requests or seconds"
        ))),
    }
}

/// `slo: {ttft?, tpot?, ttlt?}` in seconds.
fn slo(r: &OptionReader) -> Result<Option<Slo>, JsValue> {
    let Some(v) = r.object("slo")? else {
        return Ok(None);
    };
    let o = OptionReader::new(&v)?;
    Ok(Some(Slo {
        ttft: o.f64("ttft")?,
        tpot: o.f64("tpot")?,
        ttlt: o.f64("ttlt")?,
    }))
}

/// Run options: `{ clients, nRequests?, runDuration?, timeout?, payload, runName?,
/// runDescription?, seed?, startJitterMs?, maxEventBytes?, rate?, arrival?, maxConcurrency?,
/// warmup?, cooldown?, slo?, maxScheduleLag? }`.
pub fn run_options(r: &OptionReader) -> Result<RunOptions, JsValue> {
    let payload = r
        .value("payload")
        .ok_or_else(|| type_error("payload is required (an object or an array of objects)"))?;
    let payloads = if Array::is_array(&payload) {
        let arr: Array = payload.unchecked_into();
        arr.iter()
            .enumerate()
            .map(|(i, p)| to_json(&p, &format!("payload[{i}]")))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        vec![to_json(&payload, "payload")?]
    };
    let run_name = r.string("runName")?;
    if let Some(name) = &run_name {
        check_folder_name("runName", name).map_err(|e| option_error(&e))?;
    }
    let mut opts = RunOptions {
        clients: r.positive_int("clients")?.unwrap_or(1),
        n_requests: r.positive_int("nRequests")?,
        run_duration_s: r.f64("runDuration")?,
        payloads,
        run_name,
        run_description: r.string("runDescription")?,
        ..Default::default()
    };
    if let Some(t) = r.f64("timeout")? {
        opts.timeout_s = t;
    }
    if let Some(s) = r.f64("seed")? {
        opts.seed = s as u64;
    }
    if let Some(j) = r.f64("startJitterMs")? {
        opts.max_start_jitter_ms = j;
    }
    if let Some(n) = r.positive_int("maxEventBytes")? {
        opts.max_event_bytes = n as usize;
    }
    // An open loop: arrivals at `rate`, at most `maxConcurrency` in flight.
    if let Some(rate) = r.f64("rate")? {
        if r.value("clients").is_some() {
            return Err(range_error(
                "give clients (closed loop) or rate (open loop), not both; an open loop's maxConcurrency bounds the requests in flight",
            ));
        }
        let arrival = match r.string("arrival")?.as_deref() {
            None | Some("constant") => Arrival::Constant,
            Some("poisson") => Arrival::Poisson,
            Some(other) => {
                return Err(range_error(&format!(
                    "arrival must be \"constant\" or \"poisson\", got {other:?}"
                )))
            }
        };
        opts.load = LoadModel::Open { rate, arrival };
        opts.clients = match r.positive_int("maxConcurrency")? {
            Some(n) => n,
            None => RunOptions::default_max_concurrency(rate, opts.timeout_s),
        };
    } else if r.value("arrival").is_some() || r.value("maxConcurrency").is_some() {
        return Err(type_error(
            "arrival and maxConcurrency need rate (requests per second): they shape an open loop",
        ));
    }
    opts.output_path = r.string("outputPath")?;
    opts.output_nested = r.value("outputNested").is_some_and(|v| v.is_truthy());
    opts.warmup = phase(r, "warmup")?;
    opts.cooldown = phase(r, "cooldown")?;
    opts.slo = slo(r)?;
    if let Some(lag) = r.f64("maxScheduleLag")? {
        opts.max_schedule_lag_s = lag;
    }
    opts.payload_assignment = match r.string("payloadAssignment")?.as_deref() {
        None | Some("cycle") => PayloadAssignment::Cycle,
        Some("eachOnce") => PayloadAssignment::EachOnce,
        Some(other) => {
            return Err(range_error(&format!(
                "payloadAssignment must be \"cycle\" or \"eachOnce\", got {other:?}"
            )))
        }
    };
    opts.validate().map_err(|e| option_error(&e))?;
    Ok(opts)
}
