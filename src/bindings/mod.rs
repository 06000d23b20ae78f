//! The wasm-bindgen layer: JS options in, core calls, JS values out. No logic of its own beyond
//! option checking; the public JavaScript API (`js/index.js`) wraps these exports.

mod experiments;
mod options;
mod result;
mod result_builder;
mod runtime_limits;
mod tokenizer;

use crate::core::endpoint::openai::{OpenAIConfig, OpenAIEndpoint};
use crate::core::endpoint::Endpoint;
use crate::core::limits::{self, LimitOptions};
use crate::core::live::LiveStats;
use crate::core::response::{InvocationResponse, ResponseTimings};
use crate::core::runner::{CancelToken, Progress, RunObserver, Runner};
use crate::web::clock::{observe_timer_resolution_ms, WebClock};
use crate::web::fetch::FetchTransport;
use crate::web::platform::{next_hop_protocol, runtime_kind, runtime_name, VisibilityWatch};
use js_sys::{Function, Object, Reflect};
use options::{endpoint_config, run_options, OptionReader};
pub use result::WasmRunResult;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Runs one benchmark. `spec` is the merged Runner + run options object built by `js/index.js`.
#[wasm_bindgen(js_name = runBenchmark)]
pub async fn run_benchmark(spec: JsValue) -> Result<WasmRunResult, JsValue> {
    let reader = OptionReader::new(&spec)?;
    let endpoint_cfg: OpenAIConfig = endpoint_config(
        &reader
            .object("endpoint")?
            .ok_or_else(|| options::type_error("endpoint is required"))?,
    )?;
    let mut opts = run_options(&reader)?;
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
                "subrequestsSent must be a non-negative integer, got {n}"
            )))
        }
    };
    let plan = limits::check_run(runtime, &opts, &limit_options, already_sent)
        .map_err(|e| options::option_error(&e))?;
    opts.max_requests = plan.max_requests;
    let tokenizer = tokenizer::from_option(reader.value("tokenizer"))?;
    let on_progress: Option<Function> = reader.function("onProgress")?;
    let on_response: Option<Function> = reader.function("onResponse")?;
    let progress_interval_ms = reader.f64("progressIntervalMs")?.unwrap_or(500.0);
    let signal = reader
        .value("signal")
        .filter(|s| !s.is_undefined() && !s.is_null());

    let endpoint = OpenAIEndpoint::new(endpoint_cfg.clone());
    let cancel = CancelToken::new();
    let _abort_listener = match &signal {
        Some(s) => Some(listen_abort(s, &cancel)?),
        None => None,
    };

    let visibility = VisibilityWatch::start();
    let base = endpoint_cfg.base_url.trim_end_matches('/').to_string();
    // Browsers: each request's Resource Timing entry, collected during the run, read after it.
    let resource_timing = matches!(
        runtime,
        limits::RuntimeKind::BrowserPage | limits::RuntimeKind::BrowserWorker
    )
    .then(|| crate::web::resource_timing::ResourceTimingWatch::start(&base));
    let clock = WebClock;
    let transport = FetchTransport;
    let runner = Runner {
        endpoint: &endpoint,
        transport: &transport,
        clock: &clock,
        tokenizer: tokenizer.as_ref(),
    };
    let mut observer = ProgressForwarder {
        callback: on_progress,
        on_response,
        interval_ms: progress_interval_ms,
        last_ms: f64::NEG_INFINITY,
        live: LiveStats::default(),
    };
    let mut result = runner
        .run(&opts, &cancel, &mut observer)
        .await
        .map_err(|e| options::option_error(&e))?;

    // Platform facts, measured after the run so none of this work overlaps a request — and, on
    // a clock frozen between I/O, so the probe's CPU time is not counted into the first TTFTs.
    let timer_resolution = observe_timer_resolution_ms();
    if let Some(watch) = resource_timing {
        let answered = result.timings.iter().filter(|t| t.status.is_some()).count();
        let entries = watch.finish(answered).await;
        crate::core::network_phases::assign(
            &mut result.timings,
            &entries,
            timer_resolution.unwrap_or(0.0),
        );
        result.info.network_phases = crate::core::network_phases::summarize(&result.timings);
    }
    let info = &mut result.info;
    info.runtime = Some(runtime_name());
    info.timer_resolution_ms = timer_resolution;
    info.protocol = next_hop_protocol(&base);
    info.clock = Some(limits::classify_clock(timer_resolution));
    info.warnings.extend(plan.warnings);
    info.warnings.extend(limits::connection_warnings(
        runtime,
        opts.clients,
        info.protocol.as_deref(),
    ));
    info.warnings
        .extend(crate::core::runtime_facts::webkitgtk_h2_warning(
            info.runtime.as_deref().unwrap_or_default(),
            opts.clients,
            info.protocol.as_deref(),
        ));
    if visibility.hidden_seen() {
        info.warnings.push("The page was hidden during the run: browsers throttle timers in background tabs, so timings may be inflated. Keep the tab visible or run in a dedicated worker.".into());
    }
    if let Some(w) = limits::clock_warning(
        info.clock.unwrap_or(limits::ClockKind::Fine),
        timer_resolution,
    ) {
        info.warnings.push(w);
    }
    Ok(WasmRunResult::new(result))
}

fn listen_abort(signal: &JsValue, cancel: &CancelToken) -> Result<AbortListener, JsValue> {
    if Reflect::get(signal, &"aborted".into())?.is_truthy() {
        cancel.cancel();
    }
    let token = cancel.clone();
    let closure = Closure::<dyn FnMut()>::new(move || token.cancel());
    let add: Function = Reflect::get(signal, &"addEventListener".into())?
        .dyn_into()
        .map_err(|_| options::type_error("signal must be an AbortSignal"))?;
    add.call2(signal, &"abort".into(), closure.as_ref())?;
    Ok(AbortListener {
        signal: signal.clone(),
        closure,
    })
}

struct AbortListener {
    signal: JsValue,
    closure: Closure<dyn FnMut()>,
}

impl Drop for AbortListener {
    fn drop(&mut self) {
        if let Ok(remove) = Reflect::get(&self.signal, &"removeEventListener".into())
            .and_then(|f| f.dyn_into::<Function>().map_err(JsValue::from))
        {
            let _ = remove.call2(&self.signal, &"abort".into(), self.closure.as_ref());
        }
    }
}

/// Forwards each response (`onResponse`, e.g. for a store that saves as the run goes) and
/// progress with live stats (`onProgress`, at most every `interval_ms`, always for the last
/// response), so a chatty callback cannot eat the event loop while requests are in flight.
struct ProgressForwarder {
    callback: Option<Function>,
    on_response: Option<Function>,
    interval_ms: f64,
    last_ms: f64,
    live: LiveStats,
}

impl RunObserver for ProgressForwarder {
    fn on_response(
        &mut self,
        response: &InvocationResponse,
        timings: &ResponseTimings,
        p: Progress,
    ) {
        if let Some(cb) = &self.on_response {
            if let (Ok(r), Ok(t)) = (result::to_js(response), result::to_js(timings)) {
                // A throwing callback must not abort the run.
                let _ = cb.call2(&JsValue::NULL, &r, &t);
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
            result::to_js(&self.live.snapshot(p.elapsed_s)).unwrap_or(JsValue::NULL),
        );
        let _ = cb.call1(&JsValue::NULL, &o);
    }
}

/// Builds an endpoint's default payload (LLMeter's `create_payload`).
#[wasm_bindgen(js_name = createOpenAIPayload)]
pub fn create_openai_payload(
    endpoint: JsValue,
    prompt: &str,
    max_tokens: f64,
) -> Result<JsValue, JsValue> {
    let cfg = endpoint_config(&endpoint)?;
    if !(max_tokens.is_finite() && max_tokens >= 1.0 && max_tokens.fract() == 0.0) {
        return Err(js_sys::RangeError::new("maxTokens must be a positive integer").into());
    }
    let payload = OpenAIEndpoint::new(cfg).create_payload(prompt, max_tokens as u64);
    result::to_js(&payload)
}
