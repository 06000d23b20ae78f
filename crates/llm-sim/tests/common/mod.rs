//! Helpers shared by the integration tests: start the server in-process on a free port and
//! talk to it with a real hyper client (one fresh connection per request).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{HeaderMap, Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use llm_sim::{Config, RunningServer};
use serde_json::Value;
use tokio::net::TcpStream;

/// Start a server on 127.0.0.1 with a free port and the given extra flags.
pub async fn start(flags: &[&str]) -> RunningServer {
    let mut args = vec!["llm-sim", "--port", "0"];
    args.extend_from_slice(flags);
    let config = Config::try_parse_from(args).expect("valid test flags");
    llm_sim::start(config).await.expect("server starts")
}

/// A chat request body.
pub fn chat_body(content: &str, stream: bool, max_tokens: Option<u32>) -> String {
    let mut body = serde_json::json!({
        "model": "test-model",
        "messages": [{"role": "user", "content": content}],
        "stream": stream,
    });
    if stream {
        body["stream_options"] = serde_json::json!({"include_usage": true});
    }
    if let Some(max) = max_tokens {
        body["max_tokens"] = max.into();
    }
    body.to_string()
}

/// Send a request on a new HTTP/1.1 connection and return the response head.
pub async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Response<Incoming>, hyper::Error> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    stream.set_nodelay(true).ok();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    if !body.is_empty() {
        request = request.header("content-type", "application/json");
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    sender
        .send_request(
            request
                .body(Full::new(Bytes::from(body.to_string())))
                .unwrap(),
        )
        .await
}

/// A complete answer with the arrival time of every body frame.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub sent_at: Instant,
    pub frames: Vec<(Instant, Bytes)>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    pub fn request_id(&self) -> String {
        self.headers["x-request-id"].to_str().unwrap().to_string()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why reading an answer failed, and what had arrived by then.
#[derive(Debug)]
pub struct Broken {
    pub error: String,
    pub status: Option<StatusCode>,
    pub received: Bytes,
}

/// Send a request and read the whole body, timestamping frames on arrival.
pub async fn fetch(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Reply, Broken> {
    let sent_at = Instant::now();
    let response = send(addr, method, path, headers, body)
        .await
        .map_err(|e| Broken {
            error: e.to_string(),
            status: None,
            received: Bytes::new(),
        })?;
    read_reply(response, sent_at, None).await
}

/// Read a response body; `frame_timeout` gives up when no frame arrives in time.
pub async fn read_reply(
    response: Response<Incoming>,
    sent_at: Instant,
    frame_timeout: Option<Duration>,
) -> Result<Reply, Broken> {
    let (parts, mut body) = response.into_parts();
    let mut frames = Vec::new();
    let mut all = BytesMut::new();
    loop {
        let next = match frame_timeout {
            Some(limit) => match tokio::time::timeout(limit, body.frame()).await {
                Ok(next) => next,
                Err(_) => {
                    return Err(Broken {
                        error: "timeout".into(),
                        status: Some(parts.status),
                        received: all.freeze(),
                    })
                }
            },
            None => body.frame().await,
        };
        match next {
            None => break,
            Some(Err(e)) => {
                return Err(Broken {
                    error: e.to_string(),
                    status: Some(parts.status),
                    received: all.freeze(),
                })
            }
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    all.extend_from_slice(&data);
                    frames.push((Instant::now(), data));
                }
            }
        }
    }
    Ok(Reply {
        status: parts.status,
        headers: parts.headers,
        body: all.freeze(),
        sent_at,
        frames,
    })
}

pub async fn post_chat(
    addr: SocketAddr,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Reply, Broken> {
    fetch(addr, Method::POST, "/v1/chat/completions", headers, body).await
}

/// The JSON payloads of the `data:` events of an SSE body (`[DONE]` as the string "[DONE]").
pub fn sse_events(body: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(body).expect("utf-8 stream");
    assert!(text.ends_with("\n\n"), "events end with a blank line");
    text.split("\n\n")
        .filter(|event| !event.is_empty())
        .map(|event| {
            let payload = event
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("not a data line: {event:?}"));
            if payload == "[DONE]" {
                Value::String("[DONE]".into())
            } else {
                serde_json::from_str(payload)
                    .unwrap_or_else(|e| panic!("bad chunk ({e}): {payload}"))
            }
        })
        .collect()
}

/// Content deltas of chunk events, in order.
pub fn content_deltas(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["content"].as_str())
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// The ground-truth record of one request, read through `GET /sim/requests?id=`.
pub async fn record(addr: SocketAddr, id: &str) -> Value {
    let reply = fetch(
        addr,
        Method::GET,
        &format!("/sim/requests?id={id}"),
        &[],
        "",
    )
    .await
    .expect("ground truth");
    let json = reply.json();
    let list = json["requests"].as_array().expect("requests array");
    assert_eq!(list.len(), 1, "exactly one record for {id}: {json}");
    list[0].clone()
}

/// Wait (bounded) until the record of `id` satisfies `done`, e.g. after a client hung up.
pub async fn record_when(addr: SocketAddr, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let current = record(addr, id).await;
        if done(&current) || Instant::now() > deadline {
            return current;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn us(value: &Value) -> i64 {
    value
        .as_i64()
        .unwrap_or_else(|| panic!("expected microseconds, got {value}"))
}
