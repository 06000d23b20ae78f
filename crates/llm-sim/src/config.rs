//! Command-line configuration (clap). Every timing value can be overridden per request by
//! an `x-sim-*` header (see `overrides.rs`).

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::faults::{FaultKind, FaultPolicy};
use crate::timing::ValueSpec;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "llm-sim",
    version,
    about = "OpenAI-compatible LLM endpoint simulator with ground-truth timing and fault injection",
    after_help = "Value specs: a number (`50`), `normal:mean,sd`, `lognormal:mu,sigma` (of ln ms) or `uniform:a,b`."
)]
pub struct Config {
    /// Address to bind (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Plain HTTP/1.1 port; 0 picks a free port.
    #[arg(long, default_value_t = 8000)]
    pub port: u16,

    /// Also serve HTTPS (HTTP/2 and HTTP/1.1 via ALPN) with a self-signed certificate on this
    /// port; 0 picks a free port.
    #[arg(long)]
    pub tls_port: Option<u16>,

    /// Write the generated certificate (PEM) here so clients can trust it.
    #[arg(long)]
    pub cert_out: Option<PathBuf>,

    /// Model name listed by GET /v1/models (repeatable). Requests may name any model.
    #[arg(long = "model", default_value = "llm-sim")]
    pub models: Vec<String>,

    /// Time to first token in ms (value spec), before the prefill cost is added.
    #[arg(long, default_value = "0")]
    pub ttft_ms: ValueSpec,

    /// Inter-token latency in ms (value spec), drawn again for every token.
    #[arg(long, default_value = "0")]
    pub itl_ms: ValueSpec,

    /// Natural output length in tokens (value spec), capped by the request's max_tokens.
    /// When unset, the output is max_tokens / max_completion_tokens, else --default-output-tokens.
    #[arg(long)]
    pub output_tokens: Option<ValueSpec>,

    /// Output length when neither --output-tokens, x-sim-output-tokens nor max_tokens is given.
    #[arg(long, default_value_t = 16)]
    pub default_output_tokens: u32,

    /// Extra time to first token per input token, in microseconds.
    #[arg(long, default_value_t = 0.0)]
    pub prefill_us_per_token: f64,

    /// Seed for every random draw (timing distributions and fault rate); random when unset.
    #[arg(long)]
    pub seed: Option<u64>,

    /// Share of requests that get a random fault from --faults (0..=1).
    #[arg(long, default_value_t = 0.0, value_parser = parse_rate)]
    pub fault_rate: f64,

    /// Faults drawn by --fault-rate: 429, 500, 503, reset, disconnect, stall, malformed-sse, non-json,
    /// error-event (GET /sim/faults lists them as JSON).
    #[arg(long, value_delimiter = ',', default_value = "429,500,503")]
    pub faults: Vec<FaultKind>,

    /// Tokens sent before disconnect / stall / malformed-sse strike (default: half the output).
    #[arg(long)]
    pub fault_after_tokens: Option<u32>,

    /// How long a `stall` fault stops sending, in ms.
    #[arg(long, default_value_t = 60_000)]
    pub stall_ms: u64,

    /// Retry-After (seconds) sent with 429 and 503 faults.
    #[arg(long, default_value_t = 1)]
    pub retry_after_s: u64,

    /// Send no CORS headers and do not answer preflights (a misconfigured endpoint).
    #[arg(long)]
    pub no_cors: bool,

    /// Access-Control-Max-Age for preflight answers, in seconds.
    #[arg(long, default_value_t = 7200)]
    pub cors_max_age_s: u64,

    /// Ground-truth records kept (oldest dropped first).
    #[arg(long, default_value_t = 100_000)]
    pub max_records: usize,

    /// Largest accepted request body, in bytes.
    #[arg(long, default_value_t = 16 * 1024 * 1024)]
    pub max_body_bytes: usize,

    /// On SIGTERM/SIGINT, how long open responses may still finish before the process exits.
    #[arg(long, default_value_t = 500)]
    pub shutdown_grace_ms: u64,

    /// Tokio worker threads (default: one per core).
    #[arg(long)]
    pub workers: Option<usize>,

    /// AWS access key id whose SigV4 signatures the Bedrock and SageMaker routes accept (with
    /// --aws-secret-access-key). Without it and without --bedrock-api-key, those routes let
    /// every request in.
    #[arg(long, requires = "aws_secret_access_key")]
    pub aws_access_key_id: Option<String>,

    /// The secret access key that goes with --aws-access-key-id.
    #[arg(long, requires = "aws_access_key_id")]
    pub aws_secret_access_key: Option<String>,

    /// Session token the signed requests must carry (x-amz-security-token), as temporary
    /// credentials do.
    #[arg(long, requires = "aws_access_key_id")]
    pub aws_session_token: Option<String>,

    /// A Bedrock API key accepted as `Authorization: Bearer <key>` (repeatable).
    #[arg(long = "bedrock-api-key")]
    pub bedrock_api_keys: Vec<String>,

    /// How far a SigV4 request's x-amz-date may be from the simulator's clock, in seconds
    /// (AWS: 5 minutes); older ones get "Signature expired".
    #[arg(long, default_value_t = 300)]
    pub aws_max_skew_s: u64,
    /// Chat requests generated at once (a server's batch slots); more wait in a first-come
    /// queue, and their time to first token starts when they leave it. Unset: no limit.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrency: Option<u32>,
}

fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number"))?;
    if (0.0..=1.0).contains(&rate) {
        Ok(rate)
    } else {
        Err(format!("fault rate {rate} must be between 0 and 1"))
    }
}

impl Config {
    /// Defaults as if started with no flags, on a free loopback port (for tests and embedding).
    pub fn ephemeral() -> Self {
        Config::parse_from(["llm-sim", "--port", "0"])
    }

    /// Validation clap's per-field parsers cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if !self.prefill_us_per_token.is_finite() || self.prefill_us_per_token < 0.0 {
            return Err("--prefill-us-per-token must be a non-negative number".into());
        }
        if self.models.iter().any(|m| m.is_empty()) {
            return Err("--model must not be empty".into());
        }
        Ok(())
    }

    pub fn fault_policy(&self) -> FaultPolicy {
        FaultPolicy {
            rate: self.fault_rate,
            kinds: self.faults.clone(),
        }
    }
}
