//! Ground truth vs what a native HTTP/2 client sees, with 32 concurrent streams on one TLS
//! connection started at the same instant (what a browser benchmark does). The server runs on
//! its own runtime and threads, like the separate process it normally is.
//!
//! Why: headless Chromium over h2 with 32 clients measures TTFT 10-50 ms above the recorded
//! one. This test shows the simulator's side (stamp -> socket -> client) stays around 1 ms at
//! that concurrency (run with `--nocapture` in a release build to see it), so such a gap is the
//! browser's own request dispatch and delivery.
//!
//! `H2_CLIENTS` / `H2_PER_CLIENT` / `H2_ROUNDS` change the load; run with `--nocapture` to see
//! the per-phase breakdown.

mod common;

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One streamed request as the client saw it (client instants).
struct Sample {
    id: String,
    start: Instant,
    head: Instant,
    first_token: Instant,
    last_token: Instant,
}

/// The server, on a dedicated 2-worker runtime in its own thread (as `llm-sim` runs).
struct ServerThread {
    https: std::net::SocketAddr,
    http: std::net::SocketAddr,
    cert_der: Vec<u8>,
    clock: llm_sim::ground_truth::Clock,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerThread {
    fn start(flags: &[&str]) -> Self {
        let mut args = vec!["llm-sim", "--port", "0", "--tls-port", "0"];
        args.extend_from_slice(flags);
        let config = llm_sim::Config::try_parse_from(args).expect("valid flags");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let server = llm_sim::start(config).await.expect("server starts");
                ready_tx
                    .send((
                        server.https_addr.unwrap(),
                        server.http_addr,
                        server.cert_der.clone().unwrap().to_vec(),
                        server.state.clock,
                    ))
                    .unwrap();
                let _ = stop_rx.await;
                server.shutdown().await;
            });
        });
        let (https, http, cert_der, clock) = ready_rx.recv().unwrap();
        ServerThread {
            https,
            http,
            cert_der,
            clock,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn h2_sender(server: &ServerThread) -> hyper::client::conn::http2::SendRequest<Full<Bytes>> {
    let mut roots = RootCertStore::empty();
    roots.add(server.cert_der.clone().into()).unwrap();
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = TcpStream::connect(server.https).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(connection);
    sender
}

/// One streamed request; the first token is the first frame carrying non-empty content.
async fn one(mut sender: hyper::client::conn::http2::SendRequest<Full<Bytes>>) -> Sample {
    let body = common::chat_body("benchmark me", true, Some(16));
    let request = Request::post("https://localhost/v1/chat/completions")
        .header("content-type", "application/json")
        .header("authorization", "Bearer native")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    sender.ready().await.unwrap();
    let start = Instant::now();
    let response = sender.send_request(request).await.unwrap();
    let head = Instant::now();
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    let mut body = response.into_body();
    let (mut first_token, mut last_token) = (None, None);
    while let Some(frame) = body.frame().await {
        let now = Instant::now();
        if let Ok(data) = frame.unwrap().into_data() {
            let text = String::from_utf8_lossy(&data);
            if text.contains("\"content\":\"") && !text.contains("\"content\":\"\"") {
                first_token.get_or_insert(now);
                last_token = Some(now);
            }
        }
    }
    Sample {
        id,
        start,
        head,
        first_token: first_token.expect("a token arrived"),
        last_token: last_token.unwrap(),
    }
}

async fn run(
    sender: &hyper::client::conn::http2::SendRequest<Full<Bytes>>,
    clients: usize,
    per_client: usize,
) -> Vec<Sample> {
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut samples = Vec::new();
                for _ in 0..per_client {
                    samples.push(one(sender.clone()).await);
                }
                samples
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

fn quantile(values: &mut [f64], q: f64) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[((values.len() as f64 * q) as usize).min(values.len() - 1)]
}

/// Per sample, in ms: `[client TTFT - server TTFT, request leg, response leg, head leg,
/// client TTLT - server TTLT]`. The request leg runs from the client's send to `received_us`,
/// the response leg from `first_token_sent_us` to the client reading that frame (one clock:
/// client and server share the process).
fn errors(server: &ServerThread, samples: &[Sample], records: &Value) -> Vec<[f64; 5]> {
    let by_id: std::collections::HashMap<&str, &Value> = records["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r))
        .collect();
    let ms = |us: i64| us as f64 / 1000.0;
    samples
        .iter()
        .map(|s| {
            let r = by_id[s.id.as_str()];
            let (received, headers, first, last) = (
                common::us(&r["received_us"]),
                common::us(&r["headers_sent_us"]),
                common::us(&r["first_token_sent_us"]),
                common::us(&r["last_token_sent_us"]),
            );
            let at = |i: Instant| server.clock.us_at(i) as i64;
            let client_ttft = ms(at(s.first_token) - at(s.start));
            let client_ttlt = ms(at(s.last_token) - at(s.start));
            [
                client_ttft - ms(first - received),
                ms(received - at(s.start)),
                ms(at(s.first_token) - first),
                ms(at(s.head) - headers),
                client_ttlt - ms(last - received),
            ]
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_ttft_matches_ground_truth_with_32_concurrent_streams() {
    let clients = env_or("H2_CLIENTS", 32);
    let per_client = env_or("H2_PER_CLIENT", 3);
    let rounds = env_or("H2_ROUNDS", 1);
    let server = ServerThread::start(&["--ttft-ms", "50", "--itl-ms", "5"]);
    let sender = h2_sender(&server).await;
    // Warm-up: connection windows, allocator, timer wheel.
    run(&sender, clients, 1).await;

    let mut all = Vec::new();
    for _ in 0..rounds {
        let samples = run(&sender, clients, per_client).await;
        let records = common::fetch(server.http, hyper::Method::GET, "/sim/requests", &[], "")
            .await
            .unwrap()
            .json();
        all.extend(errors(&server, &samples, &records));
    }
    let names = [
        "ttft err",
        "request leg",
        "response leg",
        "head leg",
        "ttlt err",
    ];
    let mut summary = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let mut column: Vec<f64> = all.iter().map(|e| e[k]).collect();
        let (p50, p90, max) = (
            quantile(&mut column, 0.5),
            quantile(&mut column, 0.9),
            quantile(&mut column, 1.0),
        );
        println!("{name:>13}: p50 {p50:7.3} ms  p90 {p90:7.3} ms  max {max:7.3} ms");
        summary.push((p50, p90));
    }
    // Causality holds in any build and under any load: a client cannot see a token before the
    // server stamped it (same process, same monotonic clock; 0.01 ms for µs rounding).
    for (k, name) in names.iter().enumerate() {
        let min = all.iter().map(|e| e[k]).fold(f64::INFINITY, f64::min);
        assert!(
            min > -0.01,
            "{name}: client saw an event {min:.3} ms before the server stamped it"
        );
    }
    // The milliseconds themselves are a measurement, not a test target (a loaded CI machine
    // moves them by tens of ms; `--nocapture` prints them, the bench compares them). This bound
    // only catches a stalled write path: a Nagle/delayed-ACK stall costs 40 ms per response.
    let (resp_p50, _) = summary[2];
    assert!(
        resp_p50 < 35.0,
        "first token handed to hyper -> client, {clients} h2 streams: p50 {resp_p50:.3} ms (a write stall?)"
    );
}
