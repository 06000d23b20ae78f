//! The transport seam. The runner hands a request and a [`ResponseSink`] to the transport; the
//! transport reports the exchange into the sink as it happens — the head, every body chunk
//! stamped with its arrival time, then the end or a failure — and its future resolves once the
//! sink has heard the end. Chunks are pushed, not pulled: no future, no allocation and no wake-up
//! per chunk, and the stamp is taken by the transport before any parsing.
//!
//! The web implementation is a small JavaScript pump over `fetch` (one wasm call per chunk, or in
//! browsers per batch of the chunks stamped since the last one); the
//! native test implementation replays a script on a virtual clock. Dropping the exchange future
//! aborts the request (AbortController on the web): that is how timeouts and cancellation really
//! stop traffic.

use futures::future::LocalBoxFuture;
use std::rc::Rc;

#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub url: String,
    pub method: &'static str,
    pub headers: Vec<(String, String)>,
    /// Shared between every request that sends the same payload (built once per payload).
    pub body: Option<Rc<[u8]>>,
    /// Response headers the endpoint's parser reads (lower-case); the transport reports only
    /// these (reading every header costs per request).
    pub response_headers: Rc<[String]>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResponseHead {
    pub status: u16,
    /// The requested response headers that were present, lower-case names.
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

/// Receives one exchange as it happens. Calls come in this order: `head` once (unless the
/// request failed before it), `chunk` per body read, then exactly one of `end` or `fail`.
/// Methods take `&self` because the platform calls them from its own callbacks while the
/// runner's future waits.
pub trait ResponseSink {
    fn head(&self, head: ResponseHead);
    fn chunk(&self, bytes: &[u8], arrival_ms: f64);
    /// The body ended normally; `arrival_ms` is when the final read resolved.
    fn end(&self, arrival_ms: f64);
    fn fail(&self, error: TransportError, at_ms: f64);
}

pub trait Transport {
    /// Sends `request` and reports the exchange into `sink`; resolves after `end` or `fail`.
    /// Dropping the future before then aborts the request.
    fn exchange(
        &self,
        request: HttpRequest,
        sink: Rc<dyn ResponseSink>,
    ) -> LocalBoxFuture<'static, ()>;
}

/// The text of a platform fetch error (`name`, `message`, and the text of its `cause` if any,
/// else empty). Network failures get their cause, or — where the platform gives none, as
/// browsers do — what they usually mean.
pub fn describe_network_error(name: &str, message: &str, cause: &str) -> String {
    use crate::runtime_facts::{is_opaque_network_failure, NETWORK_FAILURE_HINT};
    match (is_opaque_network_failure(name, message), cause.is_empty()) {
        (true, false) => format!("{name}: {message} ({cause})"),
        (true, true) => format!("{name}: {message} ({NETWORK_FAILURE_HINT})"),
        (false, _) => format!("{name}: {message}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_engines_network_failure_gets_the_hint() {
        for (message, engine) in [
            ("Failed to fetch", "Chromium"),
            ("NetworkError when attempting to fetch resource.", "Firefox"),
            ("Load failed", "WebKit"),
        ] {
            assert_eq!(
                describe_network_error("TypeError", message, ""),
                format!("TypeError: {message} (connection refused, reset, or blocked by CORS)"),
                "{engine}"
            );
        }
        assert_eq!(
            describe_network_error(
                "TypeError",
                "fetch failed",
                "Error: connect ECONNREFUSED (ECONNREFUSED)"
            ),
            "TypeError: fetch failed (Error: connect ECONNREFUSED (ECONNREFUSED))"
        );
        assert_eq!(
            describe_network_error("TypeError", "invalid header value", ""),
            "TypeError: invalid header value"
        );
    }
}
