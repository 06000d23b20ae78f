//! CORS and Resource Timing headers, so browser clients (pages, workers) can call the
//! simulator cross-origin and see detailed timing phases.

use hyper::header::{
    HeaderName, HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ORIGIN, VARY,
};
use hyper::HeaderMap;

use crate::overrides;

const TIMING_ALLOW_ORIGIN: HeaderName = HeaderName::from_static("timing-allow-origin");
/// Chrome's Private Network Access: a public page calling loopback asks for this.
const REQUEST_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-request-private-network");
const ALLOW_PRIVATE_NETWORK: HeaderName =
    HeaderName::from_static("access-control-allow-private-network");

pub const ALLOWED_METHODS: &str = "GET, POST, DELETE, OPTIONS";
/// Readable by scripts: the ground-truth id, the retry hint of injected errors, the date (a
/// fleet's shards place their clocks on the endpoint's) and the AWS request id and error type.
pub const EXPOSED_HEADERS: &str =
    "x-request-id, retry-after, date, x-amzn-requestid, x-amzn-errortype";

pub struct Cors {
    enabled: bool,
    max_age: HeaderValue,
    default_allowed_headers: HeaderValue,
}

/// The request headers CORS answers depend on, captured before the request is consumed.
#[derive(Default)]
pub struct CorsRequest {
    origin: Option<HeaderValue>,
    requested_headers: Option<HeaderValue>,
    private_network: bool,
}

impl CorsRequest {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        CorsRequest {
            origin: headers.get(ORIGIN).cloned(),
            requested_headers: headers.get(ACCESS_CONTROL_REQUEST_HEADERS).cloned(),
            private_network: headers
                .get(REQUEST_PRIVATE_NETWORK)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true")),
        }
    }
}

impl Cors {
    pub fn new(enabled: bool, max_age_s: u64) -> Self {
        // The credential and version headers of every API the simulator speaks.
        let mut allowed = String::from(
            "authorization, content-type, x-api-key, anthropic-version, anthropic-beta, anthropic-dangerous-direct-browser-access",
        );
        allowed.push_str(", ");
        allowed.push_str(crate::sse_apis::REASONING_TOKENS);
        for name in overrides::ALL_HEADERS {
            allowed.push_str(", ");
            allowed.push_str(name);
        }
        // AWS request signing, Bedrock's stream accept header and the AWS routes' own headers.
        for name in [
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-content-sha256",
            "x-amzn-bedrock-accept",
            crate::aws::REASONING_TOKENS,
            crate::aws::LINE_FORMAT,
        ] {
            allowed.push_str(", ");
            allowed.push_str(name);
        }
        Cors {
            enabled,
            max_age: HeaderValue::from(max_age_s),
            default_allowed_headers: HeaderValue::from_str(&allowed)
                .unwrap_or(HeaderValue::from_static("*")),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Headers for every response (when enabled).
    pub fn decorate(&self, request: &CorsRequest, headers: &mut HeaderMap) {
        if !self.enabled {
            return;
        }
        match &request.origin {
            Some(origin) => {
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
                // The answer depends on Origin: caches must not reuse it for another origin.
                headers.append(VARY, HeaderValue::from_static("Origin"));
            }
            None => {
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
            }
        }
        headers.insert(
            ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED_HEADERS),
        );
        headers.insert(TIMING_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }

    /// Extra headers of a preflight (`OPTIONS`) answer, on top of `decorate`.
    pub fn decorate_preflight(&self, request: &CorsRequest, headers: &mut HeaderMap) {
        if !self.enabled {
            return;
        }
        headers.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        );
        let allowed = request
            .requested_headers
            .clone()
            .unwrap_or_else(|| self.default_allowed_headers.clone());
        headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, allowed);
        headers.insert(ACCESS_CONTROL_MAX_AGE, self.max_age.clone());
        headers.append(
            VARY,
            HeaderValue::from_static("Access-Control-Request-Headers"),
        );
        if request.private_network {
            headers.insert(ALLOW_PRIVATE_NETWORK, HeaderValue::from_static("true"));
        }
    }
}
