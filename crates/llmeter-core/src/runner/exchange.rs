//! One request: build it, hand it to the transport with a sink that feeds the endpoint's parser
//! as bytes arrive, enforce the timeout, and turn the parse into LLMeter's response.

use crate::endpoint::{
    Endpoint, EndpointError, ParseLimits, ParsedResponse, PreparedPayload, ResponseParser,
};
use crate::fleet::OffsetEstimator;
use crate::response::{InvocationResponse, ResponseTimings};
use crate::time::{format_utc, Clock};
use crate::transport::{ResponseHead, ResponseSink, Transport, TransportError};
use futures::future::{select, Either};
use std::cell::RefCell;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};

/// The runner's side of one exchange: the transport pushes into it, the parser reads.
struct Exchange {
    parser: Option<Box<dyn ResponseParser>>,
    status: Option<u16>,
    head_ms: Option<f64>,
    sent_ms: Option<f64>,
    /// `(end_ms, failure)` once the body ended or failed.
    ended: Option<(f64, Option<String>)>,
    /// The answer's `Date` header, when the run reads it (see `RunOptions::reference_clock`).
    want_date: bool,
    date: Option<String>,
    /// The parser needs nothing more: the exchange is over for the runner at this time.
    settled_ms: Option<f64>,
    /// Woken when the exchange settles early.
    waker: Option<Waker>,
}

impl ResponseSink for RefCell<Exchange> {
    fn head(&self, head: ResponseHead) {
        let mut x = self.borrow_mut();
        x.status = Some(head.status);
        x.head_ms = Some(head.arrival_ms);
        x.sent_ms = head.sent_ms;
        if x.want_date {
            x.date = head.header("date").map(str::to_string);
        }
        if let Some(p) = x.parser.as_mut() {
            p.on_head(&head);
        }
    }

    fn chunk(&self, bytes: &[u8], arrival_ms: f64) {
        let mut x = self.borrow_mut();
        if x.ended.is_some() || x.settled_ms.is_some() {
            return;
        }
        let Some(p) = x.parser.as_mut() else { return };
        p.on_chunk(bytes, arrival_ms);
        if p.is_settled() {
            x.settled_ms = Some(arrival_ms);
            if let Some(w) = x.waker.take() {
                w.wake();
            }
        }
    }

    fn end(&self, arrival_ms: f64) {
        self.borrow_mut().ended.get_or_insert((arrival_ms, None));
    }

    fn fail(&self, error: TransportError, at_ms: f64) {
        self.borrow_mut()
            .ended
            .get_or_insert((at_ms, Some(error.to_string())));
    }
}

pub(crate) struct RequestContext<'a> {
    pub endpoint: &'a dyn Endpoint,
    pub transport: &'a dyn Transport,
    pub clock: &'a dyn Clock,
    pub limits: ParseLimits,
    pub timeout_s: f64,
    /// Collects the `Date` headers of the answers, when the run reads them.
    pub dates: Option<&'a DateReader>,
}

/// Reads the `Date` header of each answer into the run's offset estimate. The header list with
/// `date` added is built once per distinct list the endpoint hands out (usually one).
pub(crate) struct DateReader {
    /// Monotonic ms and wall ms of one instant: the run's own mapping between its clocks.
    pub origin: (f64, f64),
    pub estimator: RefCell<OffsetEstimator>,
    lists: RefCell<Vec<HeaderLists>>,
}

/// An endpoint's response-header list and the same list with `date`.
type HeaderLists = (Rc<[String]>, Rc<[String]>);

impl DateReader {
    pub fn new(origin: (f64, f64)) -> DateReader {
        DateReader {
            origin,
            estimator: RefCell::new(OffsetEstimator::default()),
            lists: RefCell::new(Vec::new()),
        }
    }

    fn with_date(&self, wanted: &Rc<[String]>) -> Rc<[String]> {
        if wanted.iter().any(|h| h == "date") {
            return wanted.clone();
        }
        let mut lists = self.lists.borrow_mut();
        if let Some((_, with)) = lists.iter().find(|(w, _)| Rc::ptr_eq(w, wanted)) {
            return with.clone();
        }
        let with: Rc<[String]> = wanted
            .iter()
            .cloned()
            .chain(std::iter::once("date".to_string()))
            .collect();
        lists.push((wanted.clone(), with.clone()));
        with
    }

    fn wall(&self, monotonic_ms: f64) -> f64 {
        self.origin.1 + (monotonic_ms - self.origin.0)
    }
}

impl RequestContext<'_> {
    /// Sends one prepared payload and waits for its response, the timeout, or nothing (the
    /// caller drops this future to cancel, which aborts the request). Also returns when it was
    /// sent (clock ms: the start of its TTFT/TTLT). What it returns is turned into LLMeter's
    /// response by [`Finished::build`], which the runner defers until its next request is out.
    pub async fn invoke(
        &self,
        prepared: &Result<PreparedPayload, EndpointError>,
        payload: &serde_json::Value,
        generated_id: String,
    ) -> (Finished, f64) {
        let clock = self.clock;
        let request_time = clock.unix_ms();
        let http = prepared
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|p| self.endpoint.request(p, request_time));
        let http = match http {
            Ok(http) => http,
            Err(error) => {
                let input_payload = match prepared {
                    Ok(p) => p.input_payload.clone(),
                    Err(_) => Rc::new(payload.clone()),
                };
                let (response, timings) =
                    failed_before_sending(error, input_payload, generated_id, request_time);
                return (
                    Finished::Built(Box::new((response, timings))),
                    clock.now_ms(),
                );
            }
        };
        let Ok(prepared) = prepared else {
            unreachable!("a failed preparation returned above")
        };
        let mut http = http;
        if let Some(dates) = self.dates {
            http.response_headers = dates.with_date(&http.response_headers);
        }
        let start = clock.now_ms();
        let exchange = Rc::new(RefCell::new(Exchange {
            parser: Some(self.endpoint.parser(self.limits)),
            status: None,
            head_ms: None,
            sent_ms: None,
            ended: None,
            want_date: self.dates.is_some(),
            date: None,
            settled_ms: None,
            waker: None,
        }));
        let transfer = self.transport.exchange(http, exchange.clone());
        // The transfer ends with the body, or earlier when the parser is settled; either way
        // dropping it aborts whatever the server would still send.
        let mut transfer = transfer;
        let done = std::future::poll_fn(|cx| {
            if exchange.borrow().settled_ms.is_some() {
                return Poll::Ready(());
            }
            exchange.borrow_mut().waker = Some(cx.waker().clone());
            transfer.as_mut().poll(cx)
        });
        let timeout = clock.sleep(self.timeout_s * 1000.0);
        let timed_out = matches!(select(pin!(done), pin!(timeout)).await, Either::Right(_));
        let mut x = exchange.borrow_mut();
        let ended = x.ended.take().or(x.settled_ms.map(|t| (t, None)));
        let (end_ms, failure) = match ended {
            Some(ended) if !timed_out => ended,
            _ => (
                clock.now_ms(),
                Some(format!(
                    "timeout: no complete response after {} s",
                    crate::json::num(self.timeout_s)
                )),
            ),
        };
        // Measure from the platform's send when the transport reports it (our own request
        // building is not the endpoint's latency), else from before the exchange.
        let start = x.sent_ms.filter(|&t| t >= start).unwrap_or(start);
        if let (Some(dates), Some(date), Some(head_ms)) = (self.dates, &x.date, x.head_ms) {
            dates
                .estimator
                .borrow_mut()
                .add(dates.wall(start), dates.wall(head_ms), date);
        }
        let exchanged = Exchanged {
            parser: x.parser.take(),
            failure,
            input_payload: prepared.input_payload.clone(),
            input_prompt: prepared.input_prompt.clone(),
            generated_id,
            stamps: Stamps {
                start_ms: start,
                request_time_unix: request_time,
                status: x.status,
                head_ms: x.head_ms,
                end_ms,
            },
        };
        (Finished::Exchanged(exchanged), start)
    }
}

/// A request that is over, before it becomes LLMeter's response: the parser's finishing and
/// the response's building wait (see [`Finished::build`]).
pub(crate) enum Finished {
    /// Failed before anything was sent: already built (rare, so boxed).
    Built(Box<(InvocationResponse, ResponseTimings)>),
    /// An exchange with its parser, not yet finished.
    Exchanged(Exchanged),
}

pub(crate) struct Exchanged {
    parser: Option<Box<dyn ResponseParser>>,
    /// Why the body ended early (transport failure, timeout).
    failure: Option<String>,
    input_payload: Rc<serde_json::Value>,
    input_prompt: Option<Rc<str>>,
    generated_id: String,
    stamps: Stamps,
}

impl Finished {
    /// LLMeter's response and our timings. Pure bookkeeping on stamps already taken, so the
    /// runner runs it after the client's next request has left (see `runner::record`).
    pub fn build(self) -> (InvocationResponse, ResponseTimings) {
        let x = match self {
            Finished::Built(built) => return *built,
            Finished::Exchanged(x) => x,
        };
        let parsed = match x.parser {
            Some(p) => p.finish(x.stamps.end_ms, x.failure),
            None => ParsedResponse {
                error: Some("internal: parser missing".into()),
                ..Default::default()
            },
        };
        build_response(
            parsed,
            x.input_payload,
            x.input_prompt,
            x.generated_id,
            x.stamps,
        )
    }
}

fn failed_before_sending(
    error: EndpointError,
    input_payload: Rc<serde_json::Value>,
    generated_id: String,
    request_time: f64,
) -> (InvocationResponse, ResponseTimings) {
    let response = InvocationResponse {
        id: Some(generated_id.clone()),
        input_payload: Some(input_payload),
        error: Some(error.to_string()),
        request_time: Some(format_utc(request_time)),
        ..Default::default()
    };
    let timings = ResponseTimings {
        id: generated_id,
        ..Default::default()
    };
    (response, timings)
}

struct Stamps {
    start_ms: f64,
    request_time_unix: f64,
    status: Option<u16>,
    head_ms: Option<f64>,
    end_ms: f64,
}

fn build_response(
    parsed: ParsedResponse,
    input_payload: Rc<serde_json::Value>,
    input_prompt: Option<Rc<str>>,
    generated_id: String,
    at: Stamps,
) -> (InvocationResponse, ResponseTimings) {
    let secs = |t: f64| (t - at.start_ms) / 1000.0;
    let ttft = parsed.first_content_ms.map(secs);
    // Streams: LLMeter's TTLT is the last content chunk. Non-streaming responses (no content
    // chunk times) and content-less successes fall back to the end of the body, as its wrapper.
    let ttlt = match (parsed.last_content_ms, &parsed.error) {
        (Some(t), _) => Some(secs(t)),
        (None, None) => Some(secs(parsed.end_ms.unwrap_or(at.end_ms))),
        (None, Some(_)) => None,
    };
    let id = parsed.id.unwrap_or(generated_id);
    let timings = ResponseTimings {
        id: id.clone(),
        time_to_first_chunk: parsed.first_chunk_ms.map(secs),
        time_to_headers: at.head_ms.map(secs),
        content_chunk_offsets: parsed.content_chunk_ms.iter().map(|&t| secs(t)).collect(),
        num_chunks: parsed.num_chunks,
        num_events: parsed.num_events,
        status: at.status,
        payload_index: None, // set by the client loop, which knows the index
        network: None,       // set after the run, from the browser's Resource Timing
        start_ms: Some(at.start_ms),
        end_ms: Some(at.end_ms),
        // Set by the client loop, which knows the run's start.
        scheduled_at: None,
        sent_at: None,
    };
    let response = InvocationResponse {
        response_text: parsed.text,
        input_payload: Some(input_payload),
        id: Some(id),
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
        request_time: Some(format_utc(at.request_time_unix)),
        annotations: None,
    };
    (response, timings)
}
