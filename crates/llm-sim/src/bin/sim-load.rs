//! `sim-load`: a load generator that shows the simulator is never the bottleneck.
//! Many keep-alive HTTP/1.1 connections each send zero-delay streaming requests back to back,
//! read every body to the end and check it finished with `[DONE]`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Parser, Debug)]
#[command(
    name = "sim-load",
    about = "Load generator for llm-sim (zero-delay streaming requests)"
)]
struct Args {
    /// Simulator address.
    #[arg(long, default_value = "127.0.0.1:8000")]
    addr: SocketAddr,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Total requests.
    #[arg(long, default_value_t = 100_000)]
    requests: i64,
    /// Output tokens per streamed response.
    #[arg(long, default_value_t = 16)]
    tokens: u32,
    /// Tokio worker threads of the load generator (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
}

#[derive(Default)]
struct ConnectionStats {
    ok: u64,
    failed: u64,
    latencies_us: Vec<u32>,
}

const DONE: &[u8] = b"data: [DONE]\n\n";

async fn run_connection(
    args: Arc<Args>,
    remaining: Arc<AtomicI64>,
    body: Bytes,
) -> ConnectionStats {
    let mut stats = ConnectionStats::default();
    let Ok(stream) = TcpStream::connect(args.addr).await else {
        stats.failed += 1;
        return stats;
    };
    let _ = stream.set_nodelay(true);
    let Ok((mut sender, connection)) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await
    else {
        stats.failed += 1;
        return stats;
    };
    tokio::spawn(connection);
    let host = args.addr.to_string();
    let tokens = args.tokens.to_string();
    // Claim one request at a time until the shared budget is spent.
    while remaining.fetch_sub(1, Ordering::Relaxed) > 0 {
        if sender.ready().await.is_err() {
            stats.failed += 1;
            break;
        }
        let request = Request::post("/v1/chat/completions")
            .header("host", &host)
            .header("content-type", "application/json")
            .header("x-sim-ttft-ms", "0")
            .header("x-sim-itl-ms", "0")
            .header("x-sim-output-tokens", &tokens)
            .body(Full::new(body.clone()));
        let Ok(request) = request else {
            stats.failed += 1;
            continue;
        };
        let started = Instant::now();
        let complete = match sender.send_request(request).await {
            Ok(response) if response.status().is_success() => {
                match response.into_body().collect().await {
                    Ok(collected) => collected.to_bytes().ends_with(DONE),
                    Err(_) => false,
                }
            }
            _ => false,
        };
        if complete {
            stats.ok += 1;
            stats
                .latencies_us
                .push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        } else {
            stats.failed += 1;
        }
    }
    stats
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[index] as f64 / 1000.0
}

fn main() -> ExitCode {
    let args = Arc::new(Args::parse());
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if let Some(workers) = args.workers {
        runtime.worker_threads(workers.max(1));
    }
    let Ok(runtime) = runtime.build() else {
        eprintln!("sim-load: cannot start the runtime");
        return ExitCode::FAILURE;
    };
    let body = Bytes::from(
        serde_json::json!({
            "model": "llm-sim",
            "messages": [{"role": "user", "content": "Say something short."}],
            "stream": true,
            "stream_options": {"include_usage": true},
        })
        .to_string(),
    );
    let (elapsed, stats) = runtime.block_on(async {
        let remaining = Arc::new(AtomicI64::new(args.requests));
        let started = Instant::now();
        let tasks: Vec<_> = (0..args.connections.max(1))
            .map(|_| {
                tokio::spawn(run_connection(
                    args.clone(),
                    remaining.clone(),
                    body.clone(),
                ))
            })
            .collect();
        let mut total = ConnectionStats::default();
        for task in tasks {
            if let Ok(stats) = task.await {
                total.ok += stats.ok;
                total.failed += stats.failed;
                total.latencies_us.extend(stats.latencies_us);
            }
        }
        (started.elapsed(), total)
    });
    let mut latencies = stats.latencies_us;
    latencies.sort_unstable();
    let rate = stats.ok as f64 / elapsed.max(Duration::from_micros(1)).as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "requests_ok": stats.ok,
            "requests_failed": stats.failed,
            "connections": args.connections,
            "tokens_per_response": args.tokens,
            "seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            "requests_per_s": rate.round(),
            "latency_ms_p50": percentile(&latencies, 0.50),
            "latency_ms_p99": percentile(&latencies, 0.99),
        })
    );
    if stats.failed == 0 && stats.ok > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
