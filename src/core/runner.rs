//! The cooperative scheduler: `clients` request loops in one thread, polled together.
//!
//! Each client is one future; all are joined, so concurrency costs no threads and works the
//! same in a page, a worker, Node, Deno and workerd. Time and I/O come in through the `Clock`
//! and `Transport` traits, so native tests drive the whole engine on a virtual clock.

use crate::core::endpoint::{Endpoint, ParsedResponse, ResponseParser};
use crate::core::response::{InvocationResponse, ResponseTimings};
use crate::core::result::{RunInfo, RunResult, Summary};
use crate::core::time::{format_utc, Clock};
use crate::core::tokenizer::Tokenizer;
use crate::core::transport::{BodyEvent, Transport};
use futures::future::{select, Either};
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// Which payload each request sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayloadAssignment {
    /// LLMeter's rule: every client cycles through its own shuffled copy of the payload list.
    #[default]
    Cycle,
    /// Every payload is sent exactly once overall, in list order: clients take the next unsent
    /// payload from one shared queue, so none is duplicated or skipped for any client count
    /// (what a heatmap needs; LLMeter's own heatmap loses cells here). `nRequests` and
    /// `runDuration` do not apply.
    EachOnce,
}

/// How a run is shaped. Mirrors LLMeter's `Runner.run` arguments.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    pub clients: u32,
    /// Requests per client (count-bound). Defaults to the number of payloads, as LLMeter.
    pub n_requests: Option<u32>,
    /// Seconds each client keeps sending (time-bound). Exclusive with `n_requests`.
    pub run_duration_s: Option<f64>,
    /// Per-request limit in seconds; the request is aborted and recorded as a timeout error.
    pub timeout_s: f64,
    /// Stop starting requests after this many in all (a runtime's subrequest budget, see
    /// `core::limits`); a run that stops here says so in its warnings.
    pub max_requests: Option<u64>,
    pub payloads: Vec<Value>,
    pub run_name: Option<String>,
    pub run_description: Option<String>,
    /// Seed for the per-client payload shuffles, start jitter and generated ids.
    pub seed: u64,
    /// Each client waits a random 0..this many ms before its first request (LLMeter: 10 ms).
    pub max_start_jitter_ms: f64,
    pub payload_assignment: PayloadAssignment,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            clients: 1,
            n_requests: None,
            run_duration_s: None,
            timeout_s: 60.0,
            max_requests: None,
            payloads: Vec::new(),
            run_name: None,
            run_description: None,
            seed: 0,
            max_start_jitter_ms: 10.0,
            payload_assignment: PayloadAssignment::Cycle,
        }
    }
}

/// An invalid option, named, so the JS layer can throw a `TypeError`/`RangeError` before any
/// request is sent.
#[derive(Debug, Clone, PartialEq)]
pub struct OptionError {
    pub option: &'static str,
    pub message: String,
    /// `true` for a value out of range (`RangeError`), `false` for a wrong type (`TypeError`).
    pub is_range: bool,
}

impl std::fmt::Display for OptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.option, self.message)
    }
}

fn range_err(option: &'static str, message: impl Into<String>) -> OptionError {
    OptionError {
        option,
        message: message.into(),
        is_range: true,
    }
}

impl RunOptions {
    pub fn validate(&self) -> Result<(), OptionError> {
        if self.clients == 0 {
            return Err(range_err("clients", "must be a positive integer"));
        }
        if self.payloads.is_empty() {
            return Err(range_err("payload", "at least one payload is required"));
        }
        if self.payloads.iter().any(|p| !p.is_object()) {
            return Err(OptionError {
                option: "payload",
                message: "every payload must be a JSON object".into(),
                is_range: false,
            });
        }
        if self.payload_assignment == PayloadAssignment::EachOnce
            && (self.n_requests.is_some() || self.run_duration_s.is_some())
        {
            return Err(range_err(
                "payloadAssignment",
                "\"eachOnce\" sends every payload once: do not give nRequests or runDuration",
            ));
        }
        match (self.n_requests, self.run_duration_s) {
            (Some(_), Some(_)) => {
                return Err(range_err(
                    "runDuration",
                    "give either nRequests or runDuration, not both",
                ))
            }
            (Some(0), None) => return Err(range_err("nRequests", "must be a positive integer")),
            (None, Some(d)) if !(d.is_finite() && d > 0.0) => {
                return Err(range_err(
                    "runDuration",
                    "must be a positive number of seconds",
                ))
            }
            _ => {}
        }
        if !(self.timeout_s.is_finite() && self.timeout_s > 0.0) {
            return Err(range_err("timeout", "must be a positive number of seconds"));
        }
        if !(self.max_start_jitter_ms.is_finite() && self.max_start_jitter_ms >= 0.0) {
            return Err(range_err(
                "startJitterMs",
                "must be zero or a positive number",
            ));
        }
        Ok(())
    }

    /// Requests per client for count-bound runs (`None` when it is not fixed per client).
    pub fn requests_per_client(&self) -> Option<u32> {
        match (self.payload_assignment, self.run_duration_s) {
            (PayloadAssignment::EachOnce, _) | (_, Some(_)) => None,
            _ => Some(self.n_requests.unwrap_or(self.payloads.len() as u32)),
        }
    }

    /// Total requests the run will send, when known in advance.
    pub fn expected_requests(&self) -> Option<u64> {
        match self.payload_assignment {
            PayloadAssignment::EachOnce => Some(self.payloads.len() as u64),
            PayloadAssignment::Cycle => self
                .requests_per_client()
                .map(|n| n as u64 * self.clients as u64),
        }
    }
}

/// A one-shot cancellation flag whose `cancelled()` future wakes every waiter.
#[derive(Clone, Default)]
pub struct CancelToken(Rc<CancelState>);

#[derive(Default)]
struct CancelState {
    cancelled: Cell<bool>,
    wakers: RefCell<Vec<Waker>>,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.cancelled.set(true);
        for w in self.0.wakers.borrow_mut().drain(..) {
            w.wake();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.cancelled.get()
    }

    pub fn cancelled(&self) -> impl Future<Output = ()> + 'static {
        let state = self.0.clone();
        std::future::poll_fn(move |cx| {
            if state.cancelled.get() {
                Poll::Ready(())
            } else {
                state.wakers.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// Counts reported after each response. Cheap to build; live stats are computed by the caller
/// on its own (throttled) schedule from `RunState::snapshot`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub completed: u64,
    pub failed: u64,
    /// Total requests for count-bound runs.
    pub expected: Option<u64>,
    pub elapsed_s: f64,
    pub in_flight: u32,
}

/// Receives each response as soon as it is complete (before token-count fallbacks, which run
/// after the last request so that tokenizing never competes with in-flight timing).
pub trait RunObserver {
    fn on_response(
        &mut self,
        response: &InvocationResponse,
        timings: &ResponseTimings,
        progress: Progress,
    );
}

impl<F: FnMut(&InvocationResponse, &ResponseTimings, Progress)> RunObserver for F {
    fn on_response(
        &mut self,
        response: &InvocationResponse,
        timings: &ResponseTimings,
        progress: Progress,
    ) {
        self(response, timings, progress)
    }
}

pub struct Runner<'a> {
    pub endpoint: &'a dyn Endpoint,
    pub transport: &'a dyn Transport,
    pub clock: &'a dyn Clock,
    pub tokenizer: &'a dyn Tokenizer,
}

struct Shared<'o> {
    responses: Vec<InvocationResponse>,
    timings: Vec<ResponseTimings>,
    failed: u64,
    in_flight: u32,
    /// Requests started, and whether `max_requests` stopped a client.
    started: u64,
    budget_reached: bool,
    observer: &'o mut dyn RunObserver,
}

impl<'a> Runner<'a> {
    /// Runs to completion, to the deadline, or until `cancel` fires (then the partial result
    /// comes back with `info.interrupted = true`; in-flight requests are aborted and dropped).
    pub async fn run(
        &self,
        opts: &RunOptions,
        cancel: &CancelToken,
        observer: &mut dyn RunObserver,
    ) -> Result<RunResult, OptionError> {
        opts.validate()?;
        let clock = self.clock;
        let start_ms = clock.now_ms();
        let start_unix = clock.unix_ms();
        let per_client = opts.requests_per_client();
        let expected = opts.expected_requests();
        let each_once = opts.payload_assignment == PayloadAssignment::EachOnce;
        let next_payload = Cell::new(0usize);
        let ids = RefCell::new(SplitMix64::new(
            opts.seed ^ (start_unix as u64).rotate_left(17),
        ));
        let shared = RefCell::new(Shared {
            responses: Vec::with_capacity(expected.unwrap_or(0).min(1 << 20) as usize),
            timings: Vec::new(),
            failed: 0,
            in_flight: 0,
            started: 0,
            budget_reached: false,
            observer,
        });

        let clients = (0..opts.clients).map(|client| {
            let shared = &shared;
            let ids = &ids;
            let next_payload = &next_payload;
            async move {
                let mut rng = SplitMix64::new(
                    opts.seed
                        .wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(client as u64 + 1)),
                );
                let order = shuffled_indices(opts.payloads.len(), &mut rng);
                let jitter = rng.next_f64() * opts.max_start_jitter_ms;
                if jitter > 0.0 {
                    if let Either::Right(_) =
                        select(pin!(clock.sleep(jitter)), pin!(cancel.cancelled())).await
                    {
                        return;
                    }
                }
                let client_start = clock.now_ms();
                let mut sent: u64 = 0;
                loop {
                    if cancel.is_cancelled() {
                        return;
                    }
                    let payload_index = if each_once {
                        let i = next_payload.get();
                        if i >= opts.payloads.len() {
                            return;
                        }
                        next_payload.set(i + 1);
                        i
                    } else {
                        match (per_client, opts.run_duration_s) {
                            (Some(n), _) if sent >= n as u64 => return,
                            (None, Some(d)) if clock.now_ms() - client_start >= d * 1000.0 => {
                                return
                            }
                            _ => {}
                        }
                        order[(sent as usize) % order.len()]
                    };
                    let payload = &opts.payloads[payload_index];
                    sent += 1;
                    {
                        let mut s = shared.borrow_mut();
                        if opts.max_requests.is_some_and(|max| s.started >= max) {
                            s.budget_reached = true;
                            return;
                        }
                        s.started += 1;
                        s.in_flight += 1;
                    }
                    let request = pin!(self.invoke(payload, opts.timeout_s, ids));
                    let outcome = match select(request, pin!(cancel.cancelled())).await {
                        Either::Left((done, _)) => Some(done),
                        Either::Right(_) => None,
                    };
                    let mut s = shared.borrow_mut();
                    s.in_flight -= 1;
                    let Some((response, mut timings)) = outcome else {
                        return; // cancelled: returning drops the in-flight request, which aborts it
                    };
                    timings.payload_index = u32::try_from(payload_index).ok();
                    if response.error.is_some() {
                        s.failed += 1;
                    }
                    let progress = Progress {
                        completed: s.responses.len() as u64 + 1,
                        failed: s.failed,
                        expected,
                        elapsed_s: (clock.now_ms() - start_ms) / 1000.0,
                        in_flight: s.in_flight,
                    };
                    s.observer.on_response(&response, &timings, progress);
                    s.responses.push(response);
                    s.timings.push(timings);
                }
            }
        });
        futures::future::join_all(clients).await;

        let end_ms = clock.now_ms();
        let end_unix = start_unix + (end_ms - start_ms);
        let interrupted = cancel.is_cancelled();
        let Shared {
            mut responses,
            timings,
            started,
            budget_reached,
            ..
        } = shared.into_inner();
        for r in responses.iter_mut() {
            fill_token_counts(r, self.tokenizer);
        }
        let info = self.endpoint.info();
        let total = responses.len() as u64;
        let summary = Summary {
            total_requests: total,
            clients: opts.clients,
            n_requests: Summary::n_requests_per_client(
                per_client.map(u64::from),
                total,
                opts.clients,
                interrupted,
            ),
            total_test_time: if interrupted {
                None
            } else {
                Some((end_ms - start_ms) / 1000.0)
            },
            model_id: info.model_id.clone(),
            output_path: None,
            endpoint_name: info.endpoint_name.clone(),
            provider: info.provider.clone(),
            run_name: Some(
                opts.run_name
                    .clone()
                    .unwrap_or_else(|| default_run_name(start_unix)),
            ),
            run_description: opts.run_description.clone(),
            start_time: Some(format_utc(start_unix)),
            // Filled by `RunResult::new` from the responses (compared as instants).
            first_request_time: None,
            last_request_time: None,
            end_time: Some(format_utc(end_unix)),
        };
        let run_config = run_config_json(opts, &info, self.tokenizer);
        let mut run_info = RunInfo {
            interrupted,
            ..RunInfo::default()
        };
        if budget_reached {
            run_info
                .warnings
                .push(crate::core::limits::budget_warning(started));
        }
        Ok(RunResult::new(
            summary,
            responses,
            timings,
            run_info,
            run_config,
            opts.payloads.clone(),
        ))
    }

    /// One request: prepare, send, feed chunks to the endpoint's parser, enforce the timeout.
    async fn invoke(
        &self,
        payload: &Value,
        timeout_s: f64,
        ids: &RefCell<SplitMix64>,
    ) -> (InvocationResponse, ResponseTimings) {
        let clock = self.clock;
        let generated_id = ids.borrow_mut().hex_id();
        let prepared = match self.endpoint.prepare(payload) {
            Ok(p) => p,
            Err(message) => {
                let response = InvocationResponse {
                    id: generated_id.clone(),
                    input_payload: Some(payload.clone()),
                    error: Some(message),
                    request_time: Some(format_utc(clock.unix_ms())),
                    ..Default::default()
                };
                return (
                    response,
                    ResponseTimings {
                        id: generated_id,
                        ..Default::default()
                    },
                );
            }
        };
        let request_time = clock.unix_ms();
        let start = clock.now_ms();
        let parser: RefCell<Option<Box<dyn ResponseParser>>> =
            RefCell::new(Some(self.endpoint.parser()));
        let status = Cell::new(None::<u16>);
        let head_ms = Cell::new(None::<f64>);
        let sent_ms = Cell::new(None::<f64>);

        let exchange = async {
            let (head, mut body) = match self.transport.send(prepared.http.clone()).await {
                Ok(ok) => ok,
                Err(e) => return (clock.now_ms(), Some(e.to_string())),
            };
            status.set(Some(head.status));
            head_ms.set(Some(head.arrival_ms));
            sent_ms.set(head.sent_ms);
            if let Some(p) = parser.borrow_mut().as_mut() {
                p.on_head(&head);
            }
            loop {
                match body.next().await {
                    Ok(BodyEvent::Chunk { bytes, arrival_ms }) => {
                        if let Some(p) = parser.borrow_mut().as_mut() {
                            p.on_chunk(&bytes, arrival_ms);
                        }
                    }
                    Ok(BodyEvent::End { arrival_ms }) => return (arrival_ms, None),
                    Err(e) => return (clock.now_ms(), Some(e.to_string())),
                }
            }
        };
        let timeout = clock.sleep(timeout_s * 1000.0);
        let (end_ms, failure) = match select(pin!(exchange), timeout).await {
            Either::Left((outcome, _)) => outcome,
            // Dropping the exchange future drops the body stream / fetch, which aborts it.
            Either::Right(_) => (
                clock.now_ms(),
                Some(format!("timeout: no complete response after {timeout_s} s")),
            ),
        };
        let parsed = match parser.borrow_mut().take() {
            Some(p) => p.finish(end_ms, failure),
            None => ParsedResponse {
                error: Some("internal: parser missing".into()),
                ..Default::default()
            },
        };
        // Measure from the platform's send when the transport reports it (our own request
        // building is not the endpoint's latency), else from before `send`.
        let start = sent_ms.get().filter(|&t| t >= start).unwrap_or(start);
        build_response(
            parsed,
            prepared.input_payload,
            prepared.input_prompt,
            generated_id,
            start,
            request_time,
            status.get(),
            head_ms.get(),
            end_ms,
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn build_response(
    parsed: ParsedResponse,
    input_payload: Value,
    input_prompt: Option<String>,
    generated_id: String,
    start_ms: f64,
    request_time_unix: f64,
    status: Option<u16>,
    head_ms: Option<f64>,
    end_ms: f64,
) -> (InvocationResponse, ResponseTimings) {
    let secs = |t: f64| (t - start_ms) / 1000.0;
    let ttft = parsed.first_content_ms.map(secs);
    // Streams: LLMeter's TTLT is the last content chunk. Non-streaming responses (no content
    // chunk times) and content-less successes fall back to the end of the body, as its wrapper.
    let ttlt = match (parsed.last_content_ms, &parsed.error) {
        (Some(t), _) => Some(secs(t)),
        (None, None) => Some(secs(parsed.end_ms.unwrap_or(end_ms))),
        (None, Some(_)) => None,
    };
    let id = parsed.id.clone().unwrap_or_else(|| generated_id);
    let timings = ResponseTimings {
        id: id.clone(),
        time_to_first_chunk: parsed.first_chunk_ms.map(secs),
        time_to_headers: head_ms.map(secs),
        content_chunk_offsets: parsed.content_chunk_ms.iter().map(|&t| secs(t)).collect(),
        num_chunks: parsed.num_chunks,
        num_events: parsed.num_events,
        status,
        payload_index: None, // set by the client loop, which knows the index
        network: None,       // set after the run, from the browser's Resource Timing
        start_ms: Some(start_ms),
        end_ms: Some(end_ms),
    };
    let response = InvocationResponse {
        response_text: parsed.text,
        input_payload: Some(input_payload),
        id,
        input_prompt,
        time_to_first_token: ttft,
        time_to_last_token: ttlt,
        num_tokens_input: parsed.tokens_input,
        num_tokens_output: parsed.tokens_output,
        num_tokens_input_cached: parsed.tokens_input_cached,
        num_tokens_output_reasoning: parsed.tokens_output_reasoning,
        time_per_output_token: None,
        error: parsed.error,
        retries: None,
        request_time: Some(format_utc(request_time_unix)),
    };
    (response, timings)
}

/// LLMeter's post-processing (§6.6 of the reference), minus its quirk of counting a missing
/// text as the one-word string "None": token fallbacks for successes, then TPOT.
pub fn fill_token_counts(r: &mut InvocationResponse, tokenizer: &dyn Tokenizer) {
    if r.error.is_none() {
        if r.num_tokens_input.is_none() {
            if let Some(p) = &r.input_prompt {
                r.num_tokens_input = Some(tokenizer.count_tokens(p) as u64);
            }
        }
        if r.num_tokens_output.is_none() {
            if let Some(t) = &r.response_text {
                r.num_tokens_output = Some(tokenizer.count_tokens(t) as u64);
            }
        }
    }
    if r.time_per_output_token.is_none() {
        if let (Some(ttlt), Some(ttft), Some(out)) = (
            r.time_to_last_token,
            r.time_to_first_token,
            r.num_tokens_output,
        ) {
            if ttlt != 0.0 && ttft != 0.0 && out > 1 {
                r.time_per_output_token = Some((ttlt - ttft) / (out - 1) as f64);
            }
        }
    }
}

/// LLMeter's `run_config.json` content, without secrets (keys live only in request headers).
fn run_config_json(
    opts: &RunOptions,
    info: &crate::core::endpoint::EndpointInfo,
    tokenizer: &dyn Tokenizer,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "endpoint".into(),
        json!({
            "endpoint_name": info.endpoint_name,
            "model_id": info.model_id,
            "provider": info.provider,
            "endpoint_type": info.endpoint_type,
        }),
    );
    m.insert("output_path".into(), Value::Null);
    m.insert("tokenizer".into(), tokenizer.describe());
    m.insert("clients".into(), json!(opts.clients));
    // Time-bound: 0, as LLMeter. Each-once: LLMeter's heatmap value, total // clients.
    let n_requests = match opts.payload_assignment {
        PayloadAssignment::EachOnce => opts.payloads.len() as u32 / opts.clients.max(1),
        PayloadAssignment::Cycle => opts.requests_per_client().unwrap_or(0),
    };
    m.insert("n_requests".into(), json!(n_requests));
    m.insert("run_duration".into(), json!(opts.run_duration_s));
    m.insert("payload".into(), json!("payload.jsonl"));
    m.insert("run_name".into(), json!(opts.run_name));
    m.insert("run_description".into(), json!(opts.run_description));
    m.insert("timeout".into(), json!(opts.timeout_s));
    m.insert("callbacks".into(), Value::Null);
    m.insert("low_memory".into(), json!(false));
    m
}

/// LLMeter's default run name, `YYYYMMDD-HHMM` (UTC here: a browser's local zone is not
/// something a shared result should depend on).
pub fn default_run_name(unix_ms: f64) -> String {
    let s = format_utc(unix_ms);
    format!(
        "{}{}{}-{}{}",
        &s[0..4],
        &s[5..7],
        &s[8..10],
        &s[11..13],
        &s[14..16]
    )
}

/// Small, fast, seedable PRNG (SplitMix64): shuffles, jitter and ids must be reproducible and
/// must not pull a crypto RNG into the wasm module.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_f64() * n as f64) as usize % n.max(1)
    }
    /// 32 lowercase hex characters, like LLMeter's `uuid4().hex`.
    pub fn hex_id(&mut self) -> String {
        format!("{:016x}{:016x}", self.next_u64(), self.next_u64())
    }
}

/// Fisher–Yates permutation of `0..n`.
pub fn shuffled_indices(n: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = rng.below(i + 1);
        v.swap(i, j);
    }
    v
}
