//! Test doubles shared by the core's integration tests: a virtual clock (tokio's paused time:
//! it advances only when every task waits, so timing tests are exact and take milliseconds),
//! a scripted transport that plays a server's answer on that clock, and a minimal endpoint
//! whose every chunk is content.
#![allow(dead_code)] // each test file uses its own subset

use futures::future::LocalBoxFuture;
use futures::FutureExt;
use llmeter_core::endpoint::{
    Endpoint, EndpointError, EndpointInfo, ParseLimits, ParsedResponse, PreparedPayload,
    ResponseParser, UserMessage,
};
use llmeter_core::result::RunResult;
use llmeter_core::runner::{CancelToken, Progress, RunOptions, Runner};
use llmeter_core::time::Clock;
use llmeter_core::tokenizer::Tokenizer;
use llmeter_core::transport::{HttpRequest, ResponseHead, ResponseSink, Transport, TransportError};
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tokio::time::{sleep, Duration, Instant};

pub const UNIX_ORIGIN_MS: f64 = 1_735_732_800_000.0; // 2025-01-01T12:00:00Z

// ---------- virtual clock ----------

#[derive(Clone, Copy)]
pub struct VirtualClock {
    pub origin: Instant,
}

impl VirtualClock {
    pub fn new() -> Self {
        VirtualClock {
            origin: Instant::now(),
        }
    }
    pub fn ms_since(origin: Instant) -> f64 {
        (Instant::now() - origin).as_secs_f64() * 1000.0
    }
}

impl Clock for VirtualClock {
    fn now_ms(&self) -> f64 {
        Self::ms_since(self.origin)
    }
    fn unix_ms(&self) -> f64 {
        UNIX_ORIGIN_MS + self.now_ms()
    }
    fn sleep(&self, ms: f64) -> LocalBoxFuture<'static, ()> {
        sleep(Duration::from_secs_f64(ms.max(0.0) / 1000.0)).boxed_local()
    }
}

// ---------- scripted transport ----------

/// What the scripted server does for one request. Delays are relative to the previous step.
#[derive(Clone, Debug)]
pub struct Script {
    /// The transport reports the platform send this many ms after the exchange started.
    pub sent_after_ms: Option<f64>,
    pub connect_failure: Option<String>,
    pub head_after_ms: f64,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub chunks: Vec<(f64, Vec<u8>)>,
    pub ending: Ending,
}

#[derive(Clone, Debug)]
pub enum Ending {
    Complete(f64),
    Fail(f64, &'static str),
    Hang,
}

/// A 200 answer: head after `head_ms`, then text chunks after the given gaps, then the end.
pub fn stream_script(head_ms: f64, chunk_gaps: &[(f64, &str)]) -> Script {
    Script {
        sent_after_ms: None,
        connect_failure: None,
        head_after_ms: head_ms,
        status: 200,
        headers: vec![],
        chunks: chunk_gaps
            .iter()
            .map(|(gap, text)| (*gap, text.as_bytes().to_vec()))
            .collect(),
        ending: Ending::Complete(0.0),
    }
}

#[derive(Default)]
pub struct Traffic {
    pub sent: RefCell<Vec<HttpRequest>>,
    /// Exchanges dropped before their end: the web transport aborts the fetch there.
    pub aborted: Cell<u32>,
    pub in_flight: Cell<u32>,
    pub max_in_flight: Cell<u32>,
}

pub struct ScriptedTransport {
    pub script: Rc<dyn Fn(&HttpRequest) -> Script>,
    pub traffic: Rc<Traffic>,
    pub origin: Instant,
}

/// Counts an exchange in flight; dropping it before `finish` counts an abort.
struct InFlight {
    traffic: Rc<Traffic>,
    finished: bool,
}

impl InFlight {
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.traffic.in_flight.set(self.traffic.in_flight.get() - 1);
        if !self.finished {
            self.traffic.aborted.set(self.traffic.aborted.get() + 1);
        }
    }
}

impl ScriptedTransport {
    pub fn new(clock: &VirtualClock, script: impl Fn(&HttpRequest) -> Script + 'static) -> Self {
        ScriptedTransport {
            script: Rc::new(script),
            traffic: Rc::new(Traffic::default()),
            origin: clock.origin,
        }
    }

    /// The JSON bodies sent, in order.
    pub fn sent_bodies(&self) -> Vec<Value> {
        self.traffic
            .sent
            .borrow()
            .iter()
            .map(|r| serde_json::from_slice(r.body.as_deref().unwrap_or(b"{}")).unwrap())
            .collect()
    }
}

impl Transport for ScriptedTransport {
    fn exchange(
        &self,
        request: HttpRequest,
        sink: Rc<dyn ResponseSink>,
    ) -> LocalBoxFuture<'static, ()> {
        let script = (self.script)(&request);
        let traffic = self.traffic.clone();
        traffic.sent.borrow_mut().push(request);
        traffic.in_flight.set(traffic.in_flight.get() + 1);
        traffic
            .max_in_flight
            .set(traffic.max_in_flight.get().max(traffic.in_flight.get()));
        let mut guard = InFlight {
            traffic,
            finished: false,
        };
        let origin = self.origin;
        let now = move || VirtualClock::ms_since(origin);
        let started = now();
        async move {
            let wait = |ms: f64| sleep(Duration::from_secs_f64(ms / 1000.0));
            wait(script.head_after_ms).await;
            if let Some(msg) = &script.connect_failure {
                guard.finish();
                sink.fail(TransportError::Network(msg.clone()), now());
                return;
            }
            sink.head(ResponseHead {
                status: script.status,
                headers: script.headers.clone(),
                arrival_ms: now(),
                sent_ms: script.sent_after_ms.map(|d| started + d),
            });
            for (gap, bytes) in &script.chunks {
                wait(*gap).await;
                sink.chunk(bytes, now());
            }
            match script.ending {
                Ending::Complete(gap) => {
                    wait(gap).await;
                    guard.finish();
                    sink.end(now());
                }
                Ending::Fail(gap, msg) => {
                    wait(gap).await;
                    guard.finish();
                    sink.fail(TransportError::Body(msg.into()), now());
                }
                Ending::Hang => futures::future::pending().await,
            }
        }
        .boxed_local()
    }
}

// ---------- a minimal endpoint: every chunk is content ----------

/// Sends the payload as JSON; every body chunk is content text. A payload with `"bad"` is
/// rejected by `prepare`.
pub struct ChunkEndpoint;

impl Endpoint for ChunkEndpoint {
    fn info(&self) -> EndpointInfo {
        EndpointInfo {
            endpoint_name: Some("scripted".into()),
            model_id: Some("m".into()),
            provider: Some("test".into()),
            endpoint_type: "Scripted".into(),
        }
    }
    fn prepare(&self, payload: &Value) -> Result<PreparedPayload, EndpointError> {
        if payload.get("bad").is_some() {
            return Err(EndpointError::Payload(
                "payload rejected by endpoint".into(),
            ));
        }
        Ok(PreparedPayload {
            body: serde_json::to_vec(payload).unwrap().into(),
            input_payload: Rc::new(payload.clone()),
            input_prompt: payload.get("prompt").and_then(Value::as_str).map(Rc::from),
        })
    }
    fn request(
        &self,
        prepared: &PreparedPayload,
        _now_unix_ms: f64,
    ) -> Result<HttpRequest, EndpointError> {
        Ok(HttpRequest {
            url: "http://sim/x".into(),
            method: "POST",
            headers: vec![],
            body: Some(prepared.body.clone()),
            response_headers: Rc::from([]),
        })
    }
    fn parser(&self, _: ParseLimits) -> Box<dyn ResponseParser> {
        Box::new(ChunkParser::default())
    }
    fn create_payload(
        &self,
        message: &UserMessage,
        max_tokens: u64,
        _: &Map<String, Value>,
    ) -> Result<Value, EndpointError> {
        Ok(json!({"prompt": message.joined(), "max_tokens": max_tokens}))
    }
    fn secrets(&self) -> Vec<String> {
        vec![]
    }
}

#[derive(Default)]
pub struct ChunkParser {
    out: ParsedResponse,
    status: u16,
}

impl ResponseParser for ChunkParser {
    fn on_head(&mut self, head: &ResponseHead) {
        self.status = head.status;
    }
    fn on_chunk(&mut self, bytes: &[u8], arrival_ms: f64) {
        let o = &mut self.out;
        o.num_chunks += 1;
        o.first_chunk_ms.get_or_insert(arrival_ms);
        o.first_content_ms.get_or_insert(arrival_ms);
        o.last_content_ms = Some(arrival_ms);
        o.content_chunk_ms.push(arrival_ms);
        o.push_text(&String::from_utf8_lossy(bytes));
    }
    fn finish(mut self: Box<Self>, end_ms: f64, failure: Option<String>) -> ParsedResponse {
        self.out.end_ms = Some(end_ms);
        self.out.error =
            failure.or_else(|| (self.status >= 400).then(|| format!("HTTP {}", self.status)));
        self.out
    }
}

/// Runs `opts` with `endpoint` over `transport` and collects the progress reports.
pub async fn run_with(
    endpoint: &dyn Endpoint,
    transport: &ScriptedTransport,
    clock: &VirtualClock,
    tokenizer: &dyn Tokenizer,
    opts: &RunOptions,
    cancel: &CancelToken,
) -> (RunResult, Vec<Progress>) {
    let mut progress = Vec::new();
    let mut observer = |_: &_, _: &_, p: Progress| progress.push(p);
    let runner = Runner {
        endpoint,
        transport,
        clock,
        tokenizer,
    };
    let result = runner
        .run(opts, cancel, &mut observer)
        .await
        .expect("valid options");
    (result, progress)
}
