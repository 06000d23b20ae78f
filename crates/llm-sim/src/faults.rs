//! Fault kinds, how they are chosen (by rate or per request) and the HTTP error they map to.

use std::fmt;
use std::str::FromStr;

use hyper::StatusCode;
use rand::Rng;

use crate::openai::ApiError;

/// A failure the simulator can inject into one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 429 with `Retry-After` and the OpenAI rate-limit error body.
    RateLimited,
    /// HTTP 500 with the OpenAI server-error body.
    ServerError,
    /// HTTP 503 with `Retry-After`.
    Unavailable,
    /// Connection closed before any response header is written.
    Reset,
    /// Stream (or body) cut after some tokens, without `[DONE]`; the connection is aborted.
    Disconnect,
    /// After some tokens, nothing is sent for the stall duration (longer than client timeouts).
    Stall,
    /// A garbage `data:` line in the middle of the SSE stream.
    MalformedSse,
    /// HTTP 200, `content-type: application/json`, but the body is not JSON.
    NonJson,
    /// After some tokens, the API's own mid-stream error event ends the stream (Chat
    /// Completions: a `data: {"error": …}` chunk; Responses: `response.failed`; Anthropic:
    /// `event: error`). Without streaming, the API's failed answer.
    ErrorEvent,
}

impl FaultKind {
    pub const ALL: [FaultKind; 9] = [
        FaultKind::RateLimited,
        FaultKind::ServerError,
        FaultKind::Unavailable,
        FaultKind::Reset,
        FaultKind::Disconnect,
        FaultKind::Stall,
        FaultKind::MalformedSse,
        FaultKind::NonJson,
        FaultKind::ErrorEvent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::RateLimited => "429",
            FaultKind::ServerError => "500",
            FaultKind::Unavailable => "503",
            FaultKind::Reset => "reset",
            FaultKind::Disconnect => "disconnect",
            FaultKind::Stall => "stall",
            FaultKind::MalformedSse => "malformed-sse",
            FaultKind::NonJson => "non-json",
            FaultKind::ErrorEvent => "error-event",
        }
    }

    /// `malformed-sse` only means something for a stream; every other fault has a
    /// non-streaming form too.
    pub fn applies_to(self, stream: bool) -> bool {
        stream || self != FaultKind::MalformedSse
    }

    /// The HTTP error this fault answers with, if it is an HTTP-level fault (the real API's
    /// messages, types and codes for these statuses).
    pub fn api_error(self) -> Option<ApiError> {
        let (status, message, error_type, code) = match self {
            FaultKind::RateLimited => (
                StatusCode::TOO_MANY_REQUESTS,
                "Rate limit reached for requests (simulated by llm-sim). Please try again later.",
                "requests",
                Some("rate_limit_exceeded"),
            ),
            FaultKind::ServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server had an error while processing your request. Sorry about that! (simulated by llm-sim)",
                "server_error",
                None,
            ),
            FaultKind::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "The engine is currently overloaded, please try again later. (simulated by llm-sim)",
                "server_error",
                None,
            ),
            _ => return None,
        };
        Some(ApiError {
            status,
            message: message.to_string(),
            error_type,
            param: None,
            code,
        })
    }
}

impl FromStr for FaultKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase();
        FaultKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = FaultKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown fault '{}' (known: {})",
                    text.trim(),
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the `x-sim-fault` header asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultRequest {
    /// `none`: no fault for this request, even when a fault rate is configured.
    Suppress,
    Inject(FaultKind),
}

impl FromStr for FaultRequest {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.trim().eq_ignore_ascii_case("none") {
            Ok(FaultRequest::Suppress)
        } else {
            text.parse().map(FaultRequest::Inject)
        }
    }
}

/// Server-wide random fault injection (`--fault-rate`, `--faults`).
#[derive(Clone, Debug)]
pub struct FaultPolicy {
    pub rate: f64,
    pub kinds: Vec<FaultKind>,
}

impl FaultPolicy {
    /// Decide the fault for one request: the header wins, otherwise draw by rate among the
    /// configured kinds that apply to this kind of request.
    pub fn choose<R: Rng + ?Sized>(
        &self,
        requested: Option<FaultRequest>,
        stream: bool,
        rng: &mut R,
    ) -> Option<FaultKind> {
        match requested {
            Some(FaultRequest::Suppress) => None,
            Some(FaultRequest::Inject(kind)) => kind.applies_to(stream).then_some(kind),
            None => {
                if self.rate <= 0.0 || !rng.random_bool(self.rate.min(1.0)) {
                    return None;
                }
                let applicable = self.kinds.iter().filter(|k| k.applies_to(stream)).count();
                if applicable == 0 {
                    return None;
                }
                let pick = rng.random_range(0..applicable);
                self.kinds
                    .iter()
                    .copied()
                    .filter(|k| k.applies_to(stream))
                    .nth(pick)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn names_round_trip() {
        for kind in FaultKind::ALL {
            assert_eq!(kind.as_str().parse::<FaultKind>(), Ok(kind));
        }
        assert!("teapot".parse::<FaultKind>().is_err());
        assert_eq!("none".parse::<FaultRequest>(), Ok(FaultRequest::Suppress));
    }

    #[test]
    fn rate_is_respected_and_seeded() {
        let policy = FaultPolicy {
            rate: 0.1,
            kinds: vec![FaultKind::RateLimited, FaultKind::ServerError],
        };
        let draw = |seed| {
            let mut rng = SmallRng::seed_from_u64(seed);
            (0..20_000)
                .map(|_| policy.choose(None, true, &mut rng))
                .collect::<Vec<_>>()
        };
        let faults = draw(3);
        assert_eq!(faults, draw(3));
        let hit = faults.iter().filter(|f| f.is_some()).count() as f64 / faults.len() as f64;
        assert!((hit - 0.1).abs() < 0.01, "fault share {hit}");
        assert!(faults.contains(&Some(FaultKind::RateLimited)));
        assert!(faults.contains(&Some(FaultKind::ServerError)));
    }

    #[test]
    fn header_overrides_rate_and_stream_only_faults_are_skipped() {
        let policy = FaultPolicy {
            rate: 1.0,
            kinds: vec![FaultKind::MalformedSse],
        };
        let mut rng = SmallRng::seed_from_u64(0);
        assert_eq!(
            policy.choose(Some(FaultRequest::Suppress), true, &mut rng),
            None
        );
        assert_eq!(policy.choose(None, false, &mut rng), None);
        assert_eq!(
            policy.choose(None, true, &mut rng),
            Some(FaultKind::MalformedSse)
        );
        assert_eq!(
            policy.choose(
                Some(FaultRequest::Inject(FaultKind::Reset)),
                false,
                &mut rng
            ),
            Some(FaultKind::Reset)
        );
    }
}
