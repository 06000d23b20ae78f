//! The cooperative scheduler: worker loops in one thread, polled together.
//!
//! Each worker is one future; all are joined, so concurrency costs no threads and works the
//! same in a page, a worker, Node, Deno and workerd. Time and I/O come in through the `Clock`
//! and `Transport` traits, so native tests drive the whole engine on a virtual clock.
//!
//! There is one loop for every load model: a worker asks the pacer (`pacing`) for its next
//! ticket (which payload, which phase, when it is due), waits until it is due, sends, records.
//! A closed loop's workers are LLMeter's clients; an open loop's are its `maxConcurrency` slots
//! taking arrivals from a shared schedule.

mod cancel;
mod exchange;
pub mod lag;
mod options;
pub mod pacing;
mod record;

pub use cancel::{CancelToken, Cancelled};
pub use options::{
    range_err, type_err, Arrival, LoadModel, OptionError, PayloadAssignment, Phase, RunOptions,
    Slo, DEFAULT_MAX_SCHEDULE_LAG_S, MAX_CLIENTS, MAX_RATE, MAX_SECONDS, MAX_START_JITTER_MS,
    MAX_TOTAL_REQUESTS,
};
pub use pacing::{RequestPhase, PHASE_ANNOTATION};

use crate::callbacks::{run_config_callbacks, Callback};
use crate::endpoint::{Endpoint, EndpointError, PreparedPayload};
use crate::response::{InvocationResponse, ResponseTimings};
use crate::result::naming::{check_folder_name, run_folder_path};
use crate::result::run_config::{llmeter_tokenizer, run_config_json};
use crate::result::{default_run_name, LoadInfo, Redactor, RunInfo, RunResult, Summary};
use crate::rng::SplitMix64;
use crate::stats::percentile;
use crate::time::{format_utc, Clock};
use crate::tokenizer::Tokenizer;
use crate::transport::Transport;
use exchange::{DateReader, Finished, RequestContext};
use futures::future::{select, Either};
use pacing::{ClientPace, Pacer, Ticket};
use record::{Completion, Completions};
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::pin::pin;

/// Counts reported after each response. Cheap to build; live stats are computed by the caller
/// on its own (throttled) schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub completed: u64,
    pub failed: u64,
    /// Total requests for count-bound runs (warm-up and cool-down included when counted).
    pub expected: Option<u64>,
    pub elapsed_s: f64,
    pub in_flight: u32,
}

/// What the platform side of a run hears: the start, and each response as soon as it is
/// complete (before token-count fallbacks, which run after the last request so that tokenizing
/// never competes with in-flight timing).
pub trait RunObserver {
    fn on_response(
        &mut self,
        response: &InvocationResponse,
        timings: &ResponseTimings,
        progress: Progress,
    );

    /// Once, before the first request (options checked, payloads prepared, `before_run`
    /// callbacks done), with the run's `run_config.json` content — what a store or an output
    /// folder writes at the start.
    fn on_start(&mut self, _run_config: &Map<String, Value>) {}

    /// Whether the page was hidden at some point of the run (browsers throttle timers in
    /// background tabs), when the platform knows; used in the schedule-lag warning.
    fn page_hidden(&self) -> Option<bool> {
        None
    }
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

/// Why a run did not produce a result.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// An option is invalid (nothing was sent).
    Options(OptionError),
    /// A `before_run` callback failed (nothing was sent).
    BeforeRun { callback: String, message: String },
}

impl From<OptionError> for RunError {
    fn from(e: OptionError) -> Self {
        RunError::Options(e)
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Options(e) => e.fmt(f),
            RunError::BeforeRun { callback, message } => {
                write!(f, "callback {callback}: beforeRun failed: {message}")
            }
        }
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
    phases: Vec<RequestPhase>,
    failed: u64,
    in_flight: u32,
    /// Requests started, and whether `max_requests` stopped a worker.
    started: u64,
    budget_reached: bool,
    /// Responses whose generated text contains a secret (reported, not altered).
    secret_in_text: u64,
    /// Open loop: arrivals taken by a worker after they were due (every slot was busy).
    slot_waits: u64,
    /// Earliest start (or due time) and latest completion of a measured request, clock ms.
    measure_start_ms: Option<f64>,
    measure_end_ms: Option<f64>,
    observer: &'o mut dyn RunObserver,
}

/// Seconds as LLMeter's phases record them: `{requests: n}` or `{seconds: s}`.
fn phase_json(p: Phase) -> Option<Value> {
    match p {
        Phase::None => None,
        Phase::Requests(n) => Some(json!({ "requests": n })),
        Phase::Seconds(s) => Some(json!({ "seconds": s })),
    }
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
        match self.run_with_callbacks(opts, cancel, observer, &[]).await {
            Ok(r) => Ok(r),
            Err(RunError::Options(e)) => Err(e),
            Err(e) => Err(type_err("callbacks", e.to_string())),
        }
    }

    /// [`Runner::run`] with LLMeter's callbacks, in LLMeter's order: `before_run` (in order,
    /// before anything is sent; the `run_config` they leave is the one saved, and a new
    /// `run_name` or `run_description` there is the run's), `before_invoke`
    /// before each request (then that request's payload is prepared on its own), and
    /// `after_invoke` for each measured response in completion order once its token counts are
    /// filled — after the last request, so no callback runs while requests are in flight (the
    /// observer's `on_response` is the live feed). `after_run` is the caller's
    /// ([`crate::callbacks::after_run_all`]).
    pub async fn run_with_callbacks(
        &self,
        opts: &RunOptions,
        cancel: &CancelToken,
        observer: &mut dyn RunObserver,
        callbacks: &[&dyn Callback],
    ) -> Result<RunResult, RunError> {
        opts.validate()?;
        let clock = self.clock;
        let run_name = opts
            .run_name
            .clone()
            .unwrap_or_else(|| default_run_name(clock.unix_ms()));
        let expected = opts.expected_requests();
        let each_once = opts.payload_assignment == PayloadAssignment::EachOnce;
        let open = opts.is_open_loop();
        // Every distinct payload is prepared (body serialised, prompt extracted) once, unless a
        // callback edits payloads: then each request prepares its own copy.
        let per_request = callbacks.iter().any(|c| c.has_before_invoke());
        let prepared: Vec<Result<PreparedPayload, EndpointError>> = if per_request {
            Vec::new()
        } else {
            opts.payloads
                .iter()
                .map(|p| self.endpoint.prepare(p))
                .collect()
        };
        let info = self.endpoint.info();
        let mut run_config = run_config_json(
            opts,
            &info,
            self.tokenizer,
            &run_name,
            run_config_callbacks(callbacks),
        );
        for cb in callbacks {
            cb.before_run(&mut run_config)
                .await
                .map_err(|message| RunError::BeforeRun {
                    callback: cb.name(),
                    message,
                })?;
        }
        // LLMeter's before_run edits the run itself: a new name or description is the run's.
        let run_name = match run_config.get("run_name") {
            Some(Value::String(name)) if *name != run_name => {
                check_folder_name("runName", name)?;
                name.clone()
            }
            _ => run_name,
        };
        let run_description = match run_config.get("run_description") {
            Some(Value::String(d)) => Some(d.clone()),
            _ => opts.run_description.clone(),
        };
        let output_path = opts
            .output_path
            .as_deref()
            .map(|base| run_folder_path(base, &run_name, opts.output_nested));
        run_config.insert("run_name".into(), json!(run_name));
        run_config.insert("output_path".into(), json!(output_path));
        observer.on_start(&run_config);

        let start_ms = clock.now_ms();
        let start_unix = clock.unix_ms();
        let dates = opts
            .reference_clock
            .then(|| DateReader::new((start_ms, start_unix)));
        let context = RequestContext {
            endpoint: self.endpoint,
            transport: self.transport,
            clock,
            limits: opts.parse_limits(),
            timeout_s: opts.timeout_s,
            dates: dates.as_ref(),
        };
        let redactor = Redactor::new(self.endpoint.secrets());
        let redactor = &redactor;
        let next_payload = Cell::new(0usize);
        let ids = RefCell::new(SplitMix64::new(
            opts.seed ^ (start_unix as u64).rotate_left(17),
        ));
        let pacer = RefCell::new(Pacer::new(opts, start_ms));
        let capacity = expected.unwrap_or(0).min(1 << 20) as usize;
        let shared = RefCell::new(Shared {
            responses: Vec::with_capacity(capacity),
            timings: Vec::with_capacity(capacity),
            phases: Vec::with_capacity(capacity),
            failed: 0,
            in_flight: 0,
            started: 0,
            budget_reached: false,
            secret_in_text: 0,
            slot_waits: 0,
            measure_start_ms: None,
            measure_end_ms: None,
            observer,
        });

        let completions = Completions::default();
        let workers = (0..opts.clients).map(|worker| {
            let completions = &completions;
            let shared = &shared;
            let ids = &ids;
            let next_payload = &next_payload;
            let prepared = &prepared;
            let context = &context;
            let pacer = &pacer;
            async move {
                let mut rng = SplitMix64::new(
                    opts.seed
                        .wrapping_add(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(worker as u64 + 1)),
                );
                let mut pace = ClientPace::new(opts.payloads.len(), &mut rng);
                let jitter = rng.next_f64() * opts.max_start_jitter_ms;
                // An open loop's slots start with the schedule: no jitter.
                if jitter > 0.0 && !open {
                    if let Either::Right(_) =
                        select(pin!(clock.sleep(jitter)), pin!(cancel.cancelled())).await
                    {
                        return;
                    }
                }
                let mut cancelled = pin!(cancel.cancelled());
                // Whether this worker has sent a request: a late ticket taken after one waited
                // for this slot (one taken at the start did not).
                let mut busy_before = false;
                loop {
                    if cancel.is_cancelled() {
                        return;
                    }
                    let ticket = if each_once {
                        let i = next_payload.get();
                        if i >= opts.payloads.len() {
                            return;
                        }
                        next_payload.set(i + 1);
                        Some(Ticket {
                            payload_index: i,
                            phase: RequestPhase::Measured,
                            due_ms: None,
                        })
                    } else if open {
                        pacer.borrow_mut().next_open()
                    } else {
                        pacer.borrow_mut().next_closed(&mut pace, clock.now_ms())
                    };
                    let Some(ticket) = ticket else { return };
                    let taken_ms = clock.now_ms();
                    if let Some(due) = ticket.due_ms {
                        if due > taken_ms {
                            if let Either::Right(_) =
                                select(pin!(clock.sleep_until(due)), cancelled.as_mut()).await
                            {
                                return;
                            }
                        } else if taken_ms > due && busy_before {
                            shared.borrow_mut().slot_waits += 1;
                        }
                        busy_before = true;
                    }
                    let ready_ms = ticket.due_ms.unwrap_or(taken_ms);
                    {
                        let mut s = shared.borrow_mut();
                        if opts.max_requests.is_some_and(|max| s.started >= max) {
                            s.budget_reached = true;
                            return;
                        }
                        s.started += 1;
                        s.in_flight += 1;
                    }
                    let index = ticket.payload_index;
                    let generated_id = ids.borrow_mut().hex_id();
                    // Per-request preparation when callbacks edit payloads.
                    let mut own: Option<(Result<PreparedPayload, EndpointError>, Value)> = None;
                    let mut hook_error: Option<String> = None;
                    if per_request {
                        let mut payload = opts.payloads[index].clone();
                        for cb in callbacks.iter().filter(|c| c.has_before_invoke()) {
                            let hook = pin!(cb.before_invoke(&mut payload));
                            match select(hook, cancelled.as_mut()).await {
                                Either::Left((Ok(()), _)) => {}
                                Either::Left((Err(e), _)) => {
                                    hook_error = Some(e);
                                    break;
                                }
                                Either::Right(_) => {
                                    shared.borrow_mut().in_flight -= 1;
                                    return;
                                }
                            }
                        }
                        if hook_error.is_none() {
                            own = Some((self.endpoint.prepare(&payload), payload));
                        }
                    }
                    let outcome = match hook_error {
                        // LLMeter: a failure outside the endpoint's wrapper gives a response
                        // with a fresh id and the error, everything else null.
                        Some(error) => Some((
                            Finished::Built(Box::new((
                                InvocationResponse {
                                    id: Some(generated_id.clone()),
                                    error: Some(error),
                                    ..Default::default()
                                },
                                ResponseTimings {
                                    id: generated_id,
                                    ..Default::default()
                                },
                            ))),
                            clock.now_ms(),
                        )),
                        None => {
                            let (prepared, payload) = match &own {
                                Some((p, v)) => (p, v),
                                None => (&prepared[index], &opts.payloads[index]),
                            };
                            let request = pin!(context.invoke(prepared, payload, generated_id));
                            match select(request, cancelled.as_mut()).await {
                                Either::Left((done, _)) => Some(done),
                                Either::Right(_) => None,
                            }
                        }
                    };
                    let done_ms = clock.now_ms();
                    shared.borrow_mut().in_flight -= 1;
                    let Some((finished, sent_ms)) = outcome else {
                        return; // cancelled: returning drops the in-flight request, which aborts it
                    };
                    completions.push(Completion {
                        finished,
                        sent_ms,
                        payload_index: index,
                        phase: ticket.phase,
                        due_ms: ticket.due_ms,
                        ready_ms,
                        done_ms,
                    });
                }
            }
        });
        // Each response is recorded (built, reported, kept) once the requests started in the
        // same turn are out: on a platform that sends only when its turn ends (workerd), work
        // done before that is counted into those requests' times.
        let record = |c: Completion| {
            let (mut response, mut timings) = c.finished.build();
            let mut s = shared.borrow_mut();
            if !redactor.is_empty() {
                // Errors and ids quote what the server sent back: no secret is kept.
                if let Some(e) = response.error.as_mut() {
                    redactor.redact_in_place(e);
                }
                if let Some(id) = response.id.as_mut() {
                    if redactor.redact_in_place(id) {
                        timings.id.clone_from(id);
                    }
                }
                if response
                    .response_text
                    .as_deref()
                    .is_some_and(|t| redactor.finds(t))
                {
                    s.secret_in_text += 1;
                }
            }
            timings.payload_index = u32::try_from(c.payload_index).ok();
            timings.sent_at = Some((c.sent_ms - start_ms) / 1000.0);
            timings.scheduled_at = c.due_ms.map(|d| (d - start_ms) / 1000.0);
            if let Some(label) = c.phase.label() {
                response
                    .annotations
                    .get_or_insert_with(Map::new)
                    .insert(PHASE_ANNOTATION.into(), Value::from(label));
            } else {
                s.measure_start_ms =
                    Some(s.measure_start_ms.map_or(c.ready_ms, |m| m.min(c.ready_ms)));
                s.measure_end_ms = Some(s.measure_end_ms.map_or(c.done_ms, |m| m.max(c.done_ms)));
            }
            if response.error.is_some() {
                s.failed += 1;
            }
            let progress = Progress {
                completed: s.responses.len() as u64 + 1,
                failed: s.failed,
                expected,
                elapsed_s: (c.done_ms - start_ms) / 1000.0,
                in_flight: s.in_flight,
            };
            s.observer.on_response(&response, &timings, progress);
            s.responses.push(response);
            s.timings.push(timings);
            s.phases.push(c.phase);
        };
        let workers_end_ms = Cell::new(None);
        let clients = async {
            futures::future::join_all(workers).await;
            workers_end_ms.set(Some(clock.now_ms()));
            completions.close();
        };
        let recorder = async {
            while completions.ready().await {
                if !completions.is_closed() {
                    clock.next_turn().await;
                }
                while let Some(c) = completions.pop() {
                    record(c);
                }
            }
        };
        // The thread-lag watch runs beside the workers and stops with them. Polled after them,
        // it starts once the first requests are sent: that burst delays no arrival.
        let lags = RefCell::new(Vec::new());
        select(
            pin!(futures::future::join(clients, recorder)),
            pin!(lag::watch(clock, &lags, opts.lag_period_ms)),
        )
        .await;

        // The last response's recording is not part of the run's time.
        let end_ms = workers_end_ms.get().unwrap_or_else(|| clock.now_ms());
        let interrupted = cancel.is_cancelled();
        let Shared {
            responses: all_responses,
            timings: all_timings,
            phases,
            started,
            budget_reached,
            slot_waits,
            measure_start_ms,
            measure_end_ms,
            observer,
            secret_in_text,
            ..
        } = shared.into_inner();
        let mut responses = Vec::with_capacity(all_responses.len());
        let mut timings = Vec::with_capacity(all_timings.len());
        let mut excluded = Vec::new();
        let mut excluded_timings = Vec::new();
        let mut tokenizer_failure = None;
        for ((mut r, t), phase) in all_responses.into_iter().zip(all_timings).zip(phases) {
            // After a failure, counting stops; TPOT from the API's own counts goes on.
            let tokenizer = tokenizer_failure.is_none().then_some(self.tokenizer);
            if let Err(e) = fill_token_counts(&mut r, tokenizer) {
                tokenizer_failure = Some(e);
            }
            if phase == RequestPhase::Measured {
                responses.push(r);
                timings.push(t);
            } else {
                excluded.push(r);
                excluded_timings.push(t);
            }
        }
        let mut warnings = Vec::new();
        for cb in callbacks.iter().filter(|c| c.has_after_invoke()) {
            let mut failures = 0u64;
            let mut first = None;
            for r in responses.iter_mut() {
                if let Err(e) = cb.after_invoke(r).await {
                    failures += 1;
                    first.get_or_insert(e);
                }
            }
            if let Some(e) = first {
                warnings.push(format!(
                    "callback {}: afterInvoke failed for {failures} responses: {e}",
                    cb.name()
                ));
            }
        }

        // The measured window: from the first measured request (after a warm-up) to the last
        // measured response (before a cool-down); the whole run otherwise.
        let window_start = if opts.warmup.is_none() {
            start_ms
        } else {
            measure_start_ms.unwrap_or(start_ms)
        };
        let window_end = if opts.cooldown.is_none() {
            end_ms
        } else {
            measure_end_ms.unwrap_or(end_ms)
        };
        let per_client = opts.requests_per_client();
        let total = responses.len() as u64;
        let summary = Summary {
            total_requests: Some(total),
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
                Some((window_end - window_start).max(0.0) / 1000.0)
            },
            model_id: info.model_id.clone(),
            output_path,
            endpoint_name: info.endpoint_name.clone(),
            provider: info.provider.clone(),
            run_name: Some(run_name),
            run_description,
            start_time: Some(format_utc(start_unix + (window_start - start_ms))),
            // Filled by `RunResult::new` from the responses (compared as instants).
            first_request_time: None,
            last_request_time: None,
            end_time: Some(format_utc(start_unix + (window_end - start_ms))),
        };
        if budget_reached {
            warnings.push(crate::limits::budget_warning(started));
        }
        if let Some(e) = tokenizer_failure {
            warnings.push(format!(
                "The tokenizer failed ({e}): token counts the API did not report are left empty."
            ));
        }
        if secret_in_text > 0 {
            warnings.push(format!(
                "{secret_in_text} response(s) contain one of this run's secret values (an API key or secret header) in the generated text: the model or a proxy echoed it. The text is kept as the endpoint produced it — review before sharing these results."
            ));
        }
        if let LoadModel::Open { .. } = opts.load {
            let lags: Vec<f64> = timings
                .iter()
                .filter_map(|t| Some(t.sent_at? - t.scheduled_at?))
                .collect();
            if let Some(w) = percentile(&lags, 99).and_then(|p99| {
                pacing::schedule_lag_warning(
                    p99,
                    opts.max_schedule_lag_s,
                    slot_waits,
                    opts.clients,
                    observer.page_hidden(),
                )
            }) {
                warnings.push(w);
            }
        }
        if let Some(w) = lag::warning(
            &lags.into_inner(),
            opts.lag_period_ms,
            opts.max_schedule_lag_s,
            observer.page_hidden(),
        ) {
            warnings.push(w);
        }
        let tokenizer_description = self.tokenizer.describe();
        let run_info = RunInfo {
            interrupted,
            warnings,
            clock_offset: dates
                .and_then(|d| d.estimator.into_inner().estimate("endpoint"))
                .or_else(|| opts.fallback_offset.clone()),
            load: Some(self.load_info(opts)),
            slo: opts.slo,
            tokenizer: llmeter_tokenizer(&tokenizer_description)
                .is_none()
                .then_some(tokenizer_description),
            ..RunInfo::default()
        };
        Ok(RunResult::new(
            summary,
            responses,
            timings,
            run_info,
            run_config,
            opts.payloads.clone(),
        )
        .with_excluded(excluded, excluded_timings))
    }

    fn load_info(&self, opts: &RunOptions) -> LoadInfo {
        let mut load = LoadInfo {
            model: "closed".into(),
            warmup: phase_json(opts.warmup),
            cooldown: phase_json(opts.cooldown),
            ..LoadInfo::default()
        };
        if let LoadModel::Open { rate, arrival } = opts.load {
            load.model = "open".into();
            load.rate = Some(rate);
            load.arrival = Some(arrival.name().into());
            load.max_concurrency = Some(opts.clients);
            load.seed = Some(opts.seed);
        }
        load
    }
}

/// LLMeter's post-processing (§6.6 of the reference), minus its quirk of counting a missing
/// text as the one-word string "None": token fallbacks for successes (without a tokenizer:
/// none), then TPOT. A tokenizer that fails leaves its counts empty and returns its failure.
pub fn fill_token_counts(
    r: &mut InvocationResponse,
    tokenizer: Option<&dyn Tokenizer>,
) -> Result<(), String> {
    let mut failure = None;
    if let (None, Some(tokenizer)) = (&r.error, tokenizer) {
        let count = |text: &str| {
            let n = tokenizer.count_tokens(text) as u64;
            match tokenizer.failure() {
                Some(e) => Err(e),
                None => Ok(n),
            }
        };
        if r.num_tokens_input.is_none() {
            if let Some(p) = &r.input_prompt {
                r.num_tokens_input = count(p).map_err(|e| failure = Some(e)).ok();
            }
        }
        if r.num_tokens_output.is_none() && failure.is_none() {
            if let Some(t) = &r.response_text {
                r.num_tokens_output = count(t).map_err(|e| failure = Some(e)).ok();
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
    failure.map_or(Ok(()), Err)
}
