//! The transport seam: send an HTTP request, then pull body chunks stamped with their arrival
//! time. The web implementation stamps with `performance.now()` in the promise callback, before
//! any parsing; the native test implementation replays a script on a virtual clock.
//!
//! Dropping an in-flight send future or a body stream aborts the request (AbortController on
//! the web), which is how timeouts and run cancellation really stop traffic.

use futures::future::LocalBoxFuture;

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub url: String,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResponseHead {
    pub status: u16,
    /// Lower-case header names.
    pub headers: Vec<(String, String)>,
    /// Monotonic ms when the head arrived (the `fetch` promise resolved).
    pub arrival_ms: f64,
    /// Monotonic ms just before the platform was asked to send (after our own request
    /// building), when the transport knows it; the runner then measures TTFT/TTLT from here.
    pub sent_ms: Option<f64>,
}

impl ResponseHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum BodyEvent {
    Chunk {
        bytes: Vec<u8>,
        arrival_ms: f64,
    },
    /// The body ended normally; `arrival_ms` is when the final read resolved.
    End {
        arrival_ms: f64,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransportError {
    /// The request could not be sent or the connection failed (message from the platform).
    Network(String),
    /// The body stream failed after the head arrived (reset, disconnect mid-stream).
    Body(String),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Network(m) => write!(f, "network error: {m}"),
            TransportError::Body(m) => write!(f, "stream interrupted: {m}"),
        }
    }
}

pub trait BodyStream {
    fn next(&mut self) -> LocalBoxFuture<'_, Result<BodyEvent, TransportError>>;
}

pub type SendResult = Result<(ResponseHead, Box<dyn BodyStream>), TransportError>;

pub trait Transport {
    fn send(&self, request: HttpRequest) -> LocalBoxFuture<'static, SendResult>;
}
