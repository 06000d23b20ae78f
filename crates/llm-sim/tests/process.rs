//! The `llm-sim` binary as users run it: the listening line, `--cert-out`, and a prompt,
//! clean exit on SIGTERM / SIGINT even with streams open.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use hyper::Method;

struct Spawned {
    child: Child,
    listening: serde_json::Value,
}

fn spawn(args: &[&str]) -> Spawned {
    let mut child = Command::new(env!("CARGO_BIN_EXE_llm-sim"))
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn llm-sim");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("listening line");
    let listening =
        serde_json::from_str(line.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}"));
    Spawned { child, listening }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Wait for the exit, bounded; returns the time it took.
fn wait_exit(child: &mut Child, limit: Duration) -> (std::process::ExitStatus, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("llm-sim did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listening_line_cert_out_and_sigterm_with_an_open_stream() {
    let cert_path = std::env::temp_dir().join(format!("llm-sim-test-{}.pem", std::process::id()));
    let mut sim = spawn(&["--tls-port", "0", "--cert-out", cert_path.to_str().unwrap()]);
    let keys: Vec<&String> = sim.listening.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["event", "http", "https"], "{}", sim.listening);
    assert_eq!(sim.listening["event"], "listening");
    let http_port = sim.listening["http"].as_u64().unwrap() as u16;
    assert!(sim.listening["https"]
        .as_u64()
        .is_some_and(|p| p > 0 && p != http_port as u64));
    let pem = std::fs::read_to_string(&cert_path).expect("certificate written");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let _ = std::fs::remove_file(&cert_path);

    // A stream that stalls for a minute is open when SIGTERM arrives.
    let addr: SocketAddr = ([127, 0, 0, 1], http_port).into();
    let response = send(
        addr,
        Method::POST,
        "/v1/chat/completions",
        &[("x-sim-fault", "stall")],
        &chat_body("x", true, Some(4)),
    )
    .await
    .unwrap();
    let reader = tokio::spawn(read_reply(response, Instant::now(), None));
    tokio::time::sleep(Duration::from_millis(50)).await; // let the first tokens go out
    signal(&sim.child, "TERM");
    let (status, took) = wait_exit(&mut sim.child, Duration::from_secs(5));
    assert!(status.success(), "exit status {status:?}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
    // The client sees its stream end early, not hang.
    let outcome = tokio::time::timeout(Duration::from_secs(2), reader)
        .await
        .expect("client released")
        .unwrap();
    assert!(outcome.is_err() || !outcome.unwrap().text().contains("[DONE]"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_exits_zero_and_http_only_reports_null_https() {
    let mut sim = spawn(&[]);
    assert!(sim.listening["https"].is_null());
    let addr: SocketAddr = (
        [127, 0, 0, 1],
        sim.listening["http"].as_u64().unwrap() as u16,
    )
        .into();
    let reply = post_chat(addr, &[], &chat_body("x", false, Some(2)))
        .await
        .unwrap();
    assert_eq!(reply.status, 200);
    signal(&sim.child, "INT");
    let (status, took) = wait_exit(&mut sim.child, Duration::from_secs(5));
    assert!(
        status.success() && took < Duration::from_secs(1),
        "{status:?} after {took:?}"
    );
}

#[test]
fn bad_flags_exit_non_zero_with_a_message() {
    let output = Command::new(env!("CARGO_BIN_EXE_llm-sim"))
        .args(["--ttft-ms", "normal:5"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("normal"));
    let output = Command::new(env!("CARGO_BIN_EXE_llm-sim"))
        .args(["--faults", "429,teapot"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("teapot"));
}
