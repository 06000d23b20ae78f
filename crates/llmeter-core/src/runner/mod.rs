//! The cooperative scheduler: `clients` request loops in one thread, polled together.
//!
//! Each client is one future; all are joined, so concurrency costs no threads and works the
//! same in a page, a worker, Node, Deno and workerd. Time and I/O come in through the `Clock`
//! and `Transport` traits, so native tests drive the whole engine on a virtual clock.

mod cancel;
mod exchange;
mod options;

pub use cancel::{CancelToken, Cancelled};
pub use options::{
    range_err, type_err, OptionError, PayloadAssignment, RunOptions, MAX_CLIENTS, MAX_SECONDS,
    MAX_START_JITTER_MS, MAX_TOTAL_REQUESTS,
};

use crate::endpoint::{Endpoint, EndpointError, PreparedPayload};
use crate::response::{InvocationResponse, ResponseTimings};
use crate::result::run_config::run_config_json;
use crate::result::{default_run_name, Redactor, RunInfo, RunResult, Summary};
use crate::rng::{shuffled_indices, SplitMix64};
use crate::time::{format_utc, Clock};
use crate::tokenizer::Tokenizer;
use crate::transport::Transport;
use exchange::{DateReader, RequestContext};
use futures::future::{select, Either};
use std::cell::{Cell, RefCell};
use std::pin::pin;

/// Counts reported after each response. Cheap to build; live stats are computed by the caller
/// on its own (throttled) schedule.
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
    /// Responses whose generated text contains a secret (reported, not altered).
    secret_in_text: u64,
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
        // Every distinct payload is prepared (body serialised, prompt extracted) once.
        let prepared: Vec<Result<PreparedPayload, EndpointError>> = opts
            .payloads
            .iter()
            .map(|p| self.endpoint.prepare(p))
            .collect();
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
        let shared = RefCell::new(Shared {
            responses: Vec::with_capacity(expected.unwrap_or(0).min(1 << 20) as usize),
            timings: Vec::with_capacity(expected.unwrap_or(0).min(1 << 20) as usize),
            failed: 0,
            in_flight: 0,
            started: 0,
            budget_reached: false,
            secret_in_text: 0,
            observer,
        });

        let clients = (0..opts.clients).map(|client| {
            let shared = &shared;
            let ids = &ids;
            let next_payload = &next_payload;
            let prepared = &prepared;
            let context = &context;
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
                let mut cancelled = pin!(cancel.cancelled());
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
                    let generated_id = ids.borrow_mut().hex_id();
                    let request = pin!(context.invoke(
                        &prepared[payload_index],
                        &opts.payloads[payload_index],
                        generated_id
                    ));
                    let outcome = match select(request, cancelled.as_mut()).await {
                        Either::Left((done, _)) => Some(done),
                        Either::Right(_) => None,
                    };
                    let mut s = shared.borrow_mut();
                    s.in_flight -= 1;
                    let Some((mut response, mut timings)) = outcome else {
                        return; // cancelled: returning drops the in-flight request, which aborts it
                    };
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
            secret_in_text,
            ..
        } = shared.into_inner();
        let mut tokenizer_failure = None;
        for r in responses.iter_mut() {
            // After a failure, counting stops; TPOT from the API's own counts goes on.
            let tokenizer = tokenizer_failure.is_none().then_some(self.tokenizer);
            if let Err(e) = fill_token_counts(r, tokenizer) {
                tokenizer_failure = Some(e);
            }
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
            clock_offset: dates
                .and_then(|d| d.estimator.into_inner().estimate("endpoint"))
                .or_else(|| opts.fallback_offset.clone()),
            ..RunInfo::default()
        };
        if budget_reached {
            run_info
                .warnings
                .push(crate::limits::budget_warning(started));
        }
        if let Some(e) = tokenizer_failure {
            run_info.warnings.push(format!(
                "The tokenizer failed ({e}): token counts the API did not report are left empty."
            ));
        }
        if secret_in_text > 0 {
            run_info.warnings.push(format!(
                "{secret_in_text} response(s) contain one of this run's secret values (an API key or secret header) in the generated text: the model or a proxy echoed it. The text is kept as the endpoint produced it — review before sharing these results."
            ));
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
