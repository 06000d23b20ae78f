//! Per-request `x-sim-*` headers that override the command-line timing and fault settings.

use hyper::HeaderMap;

use crate::faults::FaultRequest;
use crate::timing::ValueSpec;

pub const TTFT_MS: &str = "x-sim-ttft-ms";
pub const ITL_MS: &str = "x-sim-itl-ms";
pub const OUTPUT_TOKENS: &str = "x-sim-output-tokens";
pub const PREFILL_US_PER_TOKEN: &str = "x-sim-prefill-us-per-token";
pub const FAULT: &str = "x-sim-fault";
pub const FAULT_AFTER_TOKENS: &str = "x-sim-fault-after-tokens";
pub const STALL_MS: &str = "x-sim-stall-ms";

/// Every header a browser needs permission to send (listed in CORS preflight answers).
pub const ALL_HEADERS: [&str; 7] = [
    TTFT_MS,
    ITL_MS,
    OUTPUT_TOKENS,
    PREFILL_US_PER_TOKEN,
    FAULT,
    FAULT_AFTER_TOKENS,
    STALL_MS,
];

#[derive(Clone, Copy, Debug, Default)]
pub struct RequestOverrides {
    pub ttft_ms: Option<ValueSpec>,
    pub itl_ms: Option<ValueSpec>,
    pub output_tokens: Option<ValueSpec>,
    pub prefill_us_per_token: Option<f64>,
    pub fault: Option<FaultRequest>,
    pub fault_after_tokens: Option<u32>,
    pub stall_ms: Option<u64>,
}

impl RequestOverrides {
    /// Parse the override headers; the error names the bad header (answered with HTTP 400).
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, String> {
        Ok(RequestOverrides {
            ttft_ms: header(headers, TTFT_MS)?,
            itl_ms: header(headers, ITL_MS)?,
            output_tokens: header(headers, OUTPUT_TOKENS)?,
            prefill_us_per_token: header::<f64>(headers, PREFILL_US_PER_TOKEN)?
                .map(|v| {
                    if v.is_finite() && v >= 0.0 {
                        Ok(v)
                    } else {
                        Err(format!(
                            "Invalid header {PREFILL_US_PER_TOKEN}: must be a non-negative number"
                        ))
                    }
                })
                .transpose()?,
            fault: header(headers, FAULT)?,
            fault_after_tokens: header(headers, FAULT_AFTER_TOKENS)?,
            stall_ms: header(headers, STALL_MS)?,
        })
    }
}

fn header<T>(headers: &HeaderMap, name: &str) -> Result<Option<T>, String>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| format!("Invalid header {name}: not visible ASCII"))?;
    text.trim()
        .parse::<T>()
        .map(Some)
        .map_err(|e| format!("Invalid header {name}: '{text}': {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::FaultKind;

    #[test]
    fn parses_and_rejects() {
        let mut headers = HeaderMap::new();
        headers.insert(TTFT_MS, "normal:50,5".parse().unwrap());
        headers.insert(FAULT, "stall".parse().unwrap());
        headers.insert(FAULT_AFTER_TOKENS, "3".parse().unwrap());
        let parsed = RequestOverrides::from_headers(&headers).unwrap();
        assert_eq!(
            parsed.ttft_ms,
            Some(ValueSpec::Normal {
                mean: 50.0,
                std_dev: 5.0
            })
        );
        assert_eq!(parsed.fault, Some(FaultRequest::Inject(FaultKind::Stall)));
        assert_eq!(parsed.fault_after_tokens, Some(3));
        assert_eq!(parsed.itl_ms, None);

        headers.insert(STALL_MS, "-4".parse().unwrap());
        let err = RequestOverrides::from_headers(&headers).unwrap_err();
        assert!(err.contains(STALL_MS), "{err}");
        headers.remove(STALL_MS);
        headers.insert(PREFILL_US_PER_TOKEN, "NaN".parse().unwrap());
        assert!(RequestOverrides::from_headers(&headers).is_err());
    }
}
