//! `runBenchmark`: one run of the engine over the platform's fetch, with progress and
//! per-response callbacks, and the platform facts measured after it.

use super::callbacks;
use super::endpoints;
use super::options::{self, run_options, OptionReader};
use super::result::{self, WasmRunResult};
use super::tokenizer;
use crate::web::clock::{observe_timer_resolution_ms, WebClock};
use crate::web::fetch::FetchTransport;
use crate::web::platform::{next_hop_protocol, runtime_kind, runtime_name, VisibilityWatch};
use js_sys::{Function, Object, Reflect};
use llmeter_core::callbacks::Callback;
use llmeter_core::limits::{self, LimitOptions};
use llmeter_core::live::LiveStats;
use llmeter_core::response::{InvocationResponse, ResponseTimings};
use llmeter_core::runner::{CancelToken, Progress, RunError, RunObserver, Runner};
use llmeter_core::{network_phases, runtime_facts};
use serde::Serialize;
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// Runs one benchmark. `spec` is the merged Runner + run options object built by `js/index.js`:
/// `endpoint` is the endpoint's config, `pump` the fetch pump module.
#[wasm_bindgen(js_name = runBenchmark)]
pub async fn run_benchmark(spec: JsValue) -> Result<WasmRunResult, JsValue> {
    let reader = OptionReader::new(&spec)?;
    let endpoint = endpoints::from_js(
        &reader
            .object("endpoint")?
            .ok_or_else(|| options::type_error("endpoint is required"))?,
    )?;
    let mut opts = run_options(&reader)?;
    let shard = super::fleet::read_shard(&reader)?;
    // A shard from another machine reads the endpoint's `Date` to place itself on its clock.
    if let Some(s) = &shard {
        opts.reference_clock = !s.same_clock;
        opts.fallback_offset = s.fallback.clone();
    }
    // The runtime's limits, checked before any request: over the subrequest budget is a
    // RangeError; what the platform would queue becomes a warning in the result.
    let runtime = runtime_kind();
    let limit_options = LimitOptions {
        subrequest_limit: reader.positive_int("subrequestLimit")?,
    };
    // Subrequests already made by this invocation (a load test's earlier levels).
    let already_sent = match reader.f64("subrequestsSent")? {
        None => 0,
        Some(n) if n >= 0.0 && n.fract() == 0.0 => n as u64,
        Some(n) => {
            return Err(options::range_error(&format!(
                "subrequestsSent must be a non-negative integer, got {}",
                llmeter_core::json::num(n)
            )))
        }
    };
    let plan = limits::check_run(runtime, &opts, &limit_options, already_sent)
        .map_err(|e| options::option_error(&e))?;
    opts.max_requests = plan.max_requests;
    opts.lag_period_ms = plan.lag_period_ms;
    let tokenizer = tokenizer::from_option(reader.value("tokenizer"))?;
    let on_progress: Option<Function> = reader.function("onProgress")?;
    let on_response: Option<Function> = reader.function("onResponse")?;
    let on_start: Option<Function> = reader.function("onStart")?;
    let callbacks = callbacks::from_option(reader.value("callbacks"), opts.seed)?;
    let hooks: Vec<&dyn Callback> = callbacks.iter().map(|c| c.as_callback()).collect();
    let progress_interval_ms = reader.f64("progressIntervalMs")?.unwrap_or(500.0);
    let cancel = CancelToken::new();
    // The JS API listens to the run's AbortSignal and calls `cancelRun(cancelId)`: no Rust
    // closure is left on a signal the caller keeps.
    let _cancel_registration = match reader.f64("cancelId")? {
        Some(id) => Some(CancelRegistration::new(id as u32, &cancel)),
        None => None,
    };

    let visibility = VisibilityWatch::start();
    let url = traffic_url(&opts.payloads, endpoint.as_ref());
    // Browsers: each request's Resource Timing entry, collected during the run, read after it.
    let resource_timing = matches!(
        runtime,
        limits::RuntimeKind::BrowserPage | limits::RuntimeKind::BrowserWorker
    )
    .then(|| {
        url.as_deref()
            .map(crate::web::resource_timing::ResourceTimingWatch::start)
    })
    .flatten();
    let clock = WebClock;
    // `node:http` (Node's own client) or `fetch`, resolved by the JS API; absent: the pump's default.
    let transport_name = reader.string("transport")?;
    let via_fetch = match transport_name.as_deref() {
        None | Some("node:http") => false,
        Some("fetch") => true,
        Some(other) => {
            return Err(options::range_error(&format!(
                "transport must be \"fetch\" or \"node:http\", got {other:?}"
            )))
        }
    };
    let transport = FetchTransport::new(via_fetch).ok_or_else(|| {
        options::type_error("the platform is not registered (internal: call setPlatform)")
    })?;
    let runner = Runner {
        endpoint: endpoint.as_ref(),
        transport: &transport,
        clock: &clock,
        tokenizer: tokenizer.as_ref(),
    };
    let mut observer = ProgressForwarder {
        callback: on_progress,
        on_response,
        on_start,
        payload_objects: Vec::new(),
        interval_ms: progress_interval_ms,
        last_ms: f64::NEG_INFINITY,
        live: LiveStats::default(),
        visibility: &visibility,
    };
    let mut result = match runner
        .run_with_callbacks(&opts, &cancel, &mut observer, &hooks)
        .await
    {
        Ok(result) => result,
        Err(RunError::Options(e)) => return Err(options::option_error(&e)),
        Err(e @ RunError::BeforeRun { .. }) => {
            // The hook's own exception, as thrown.
            return Err(callbacks
                .iter()
                .find_map(|c| c.thrown())
                .unwrap_or_else(|| js_sys::Error::new(&e.to_string()).into()));
        }
    };

    // Platform facts, measured after the run so none of this work overlaps a request — and, on
    // a clock frozen between I/O, so the probe's CPU time is not counted into the first TTFTs.
    let timer_resolution = observe_timer_resolution_ms();
    let mut observed_protocol = None;
    if let Some(watch) = resource_timing {
        let answered = result.timings.iter().filter(|t| t.status.is_some()).count();
        let (entries, protocol) = watch.finish(answered).await;
        observed_protocol = protocol;
        network_phases::assign(
            &mut result.timings,
            &entries,
            timer_resolution.unwrap_or(0.0),
        );
        result.info.network_phases = network_phases::summarize(&result.timings);
    }
    let info = &mut result.info;
    info.runtime = Some(runtime_name());
    info.transport = transport_name;
    info.timer_resolution_ms = timer_resolution;
    info.protocol = observed_protocol.or_else(|| url.as_deref().and_then(next_hop_protocol));
    info.clock = Some(limits::classify_clock(timer_resolution));
    info.warnings.extend(plan.warnings);
    info.warnings.extend(limits::connection_warnings(
        runtime,
        opts.clients,
        info.protocol.as_deref(),
    ));
    info.warnings.extend(runtime_facts::webkitgtk_h2_warning(
        info.runtime.as_deref().unwrap_or_default(),
        opts.clients,
        info.protocol.as_deref(),
    ));
    if visibility.hidden_seen() && !info.warnings.iter().any(|w| w.contains("page was hidden")) {
        info.warnings.push("The page was hidden during the run: browsers throttle timers in background tabs, so timings may be inflated. Keep the tab visible or run in a dedicated worker.".into());
    }
    if let Some(w) = limits::clock_warning(
        info.clock.unwrap_or(limits::ClockKind::Fine),
        timer_resolution,
    ) {
        info.warnings.push(w);
    }
    if let Some(super::fleet::ShardOption {
        spec, same_clock, ..
    }) = shard
    {
        let offset = if same_clock {
            Some(llmeter_core::fleet::ClockOffset::same_clock())
        } else {
            result.info.clock_offset.clone()
        };
        let runtime = result.info.runtime.clone();
        result.info.shard = Some(
            spec.manifest(runtime, super::fleet::ENGINE, offset)
                .to_value(),
        );
    }
    Ok(WasmRunResult::new(result))
}

/// The URL the run's requests went to (for the protocol probe in Resource Timing).
fn traffic_url(
    payloads: &[serde_json::Value],
    endpoint: &dyn llmeter_core::endpoint::Endpoint,
) -> Option<String> {
    let prepared = endpoint.prepare(payloads.first()?).ok()?;
    Some(endpoint.request(&prepared, 0.0).ok()?.url)
}

thread_local! {
    static CANCELS: RefCell<HashMap<u32, CancelToken>> = RefCell::new(HashMap::new());
    /// Ids cancelled before their run registered (the signal fired while it was starting).
    static EARLY_CANCELS: RefCell<std::collections::HashSet<u32>> = RefCell::new(Default::default());
}

/// A run's cancel token, reachable by id while the run lasts.
struct CancelRegistration(u32);

impl CancelRegistration {
    fn new(id: u32, token: &CancelToken) -> Self {
        if EARLY_CANCELS.with(|c| c.borrow_mut().remove(&id)) {
            token.cancel();
        }
        CANCELS.with(|c| c.borrow_mut().insert(id, token.clone()));
        CancelRegistration(id)
    }
}

impl Drop for CancelRegistration {
    fn drop(&mut self) {
        CANCELS.with(|c| c.borrow_mut().remove(&self.0));
    }
}

/// Cancels the run registered under `id` (its AbortSignal fired); unknown ids are ignored.
#[wasm_bindgen(js_name = cancelRun)]
pub fn cancel_run(id: u32) {
    let token = CANCELS.with(|c| c.borrow().get(&id).cloned());
    match token {
        Some(t) => t.cancel(),
        None => {
            EARLY_CANCELS.with(|c| c.borrow_mut().insert(id));
        }
    }
}

/// A response for `onResponse` without its `input_payload`, which is set from a JS object
/// converted once per payload (not once per response).
#[derive(Serialize)]
struct ResponseView<'a> {
    response_text: &'a Option<String>,
    id: &'a Option<String>,
    input_prompt: Option<&'a str>,
    time_to_first_token: Option<f64>,
    time_to_last_token: Option<f64>,
    num_tokens_input: Option<u64>,
    num_tokens_output: Option<u64>,
    num_tokens_input_cached: Option<u64>,
    num_tokens_output_reasoning: Option<u64>,
    time_per_output_token: Option<f64>,
    error: &'a Option<String>,
    retries: Option<u64>,
    request_time: &'a Option<String>,
}

/// Forwards each response (`onResponse`, e.g. for a store that saves as the run goes) and
/// progress with live stats (`onProgress`, at most every `interval_ms`, always for the last
/// response), so a chatty callback cannot eat the event loop while requests are in flight.
struct ProgressForwarder<'v> {
    callback: Option<Function>,
    on_response: Option<Function>,
    /// `onStart(runConfig)`: the run's `run_config.json` before the first request.
    on_start: Option<Function>,
    visibility: &'v VisibilityWatch,
    /// `input_payload` of each payload index as a JS object, converted on first use.
    payload_objects: Vec<Option<(Rc<serde_json::Value>, JsValue)>>,
    interval_ms: f64,
    last_ms: f64,
    live: LiveStats,
}

impl ProgressForwarder<'_> {
    fn payload_object(&mut self, response: &InvocationResponse, index: Option<u32>) -> JsValue {
        let (Some(payload), Some(index)) = (&response.input_payload, index) else {
            return response
                .input_payload
                .as_deref()
                .and_then(|p| result::to_js(p).ok())
                .unwrap_or(JsValue::NULL);
        };
        let index = index as usize;
        if self.payload_objects.len() <= index {
            self.payload_objects.resize(index + 1, None);
        }
        match &self.payload_objects[index] {
            Some((rc, js)) if Rc::ptr_eq(rc, payload) => js.clone(),
            _ => {
                let js = result::to_js(payload.as_ref()).unwrap_or(JsValue::NULL);
                self.payload_objects[index] = Some((payload.clone(), js.clone()));
                js
            }
        }
    }
}

impl RunObserver for ProgressForwarder<'_> {
    fn on_start(&mut self, run_config: &Map<String, Value>) {
        if let Some(cb) = &self.on_start {
            if let Ok(config) = result::to_js(run_config) {
                // A throw or a rejection (an async hook) must not end the run or the process.
                let _ = cb
                    .call1(&JsValue::NULL, &config)
                    .map(|v| options::defuse_promise(&v));
            }
        }
    }

    fn page_hidden(&self) -> Option<bool> {
        self.visibility.hidden()
    }

    fn on_response(
        &mut self,
        response: &InvocationResponse,
        timings: &ResponseTimings,
        p: Progress,
    ) {
        if let Some(cb) = self.on_response.clone() {
            let view = ResponseView {
                response_text: &response.response_text,
                id: &response.id,
                input_prompt: response.input_prompt.as_deref(),
                time_to_first_token: response.time_to_first_token,
                time_to_last_token: response.time_to_last_token,
                num_tokens_input: response.num_tokens_input,
                num_tokens_output: response.num_tokens_output,
                num_tokens_input_cached: response.num_tokens_input_cached,
                num_tokens_output_reasoning: response.num_tokens_output_reasoning,
                time_per_output_token: response.time_per_output_token,
                error: &response.error,
                retries: response.retries,
                request_time: &response.request_time,
            };
            if let (Ok(r), Ok(t)) = (result::to_js(&view), result::to_js(timings)) {
                let payload = self.payload_object(response, timings.payload_index);
                let _ = Reflect::set(&r, &"input_payload".into(), &payload);
                // A throw or a rejection (an async callback) must not end the run or the process.
                let _ = cb
                    .call2(&JsValue::NULL, &r, &t)
                    .map(|v| options::defuse_promise(&v));
            }
        }
        let Some(cb) = &self.callback else { return };
        self.live.push(response);
        let now = crate::web::clock::performance_now();
        let last = p.expected.is_some_and(|e| p.completed >= e);
        if !last && now - self.last_ms < self.interval_ms {
            return;
        }
        self.last_ms = now;
        let o = Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = Reflect::set(&o, &k.into(), &v);
        };
        set("completed", JsValue::from_f64(p.completed as f64));
        set("failed", JsValue::from_f64(p.failed as f64));
        set(
            "expected",
            p.expected
                .map(|e| JsValue::from_f64(e as f64))
                .unwrap_or(JsValue::NULL),
        );
        set("elapsedS", JsValue::from_f64(p.elapsed_s));
        set("inFlight", JsValue::from_f64(p.in_flight as f64));
        set(
            "stats",
            result::to_js(
                &self
                    .live
                    .snapshot(llmeter_core::time::Clock::unix_ms(&WebClock)),
            )
            .unwrap_or(JsValue::NULL),
        );
        let _ = cb
            .call1(&JsValue::NULL, &o)
            .map(|v| options::defuse_promise(&v));
    }
}
