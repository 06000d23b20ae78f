//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`), synchronous and platform-free: the request is
//! signed when it is built, at the wall-clock time the runner passes in.
//!
//! Follows botocore's `SigV4Auth` byte for byte: the canonical URI is the path URI-encoded once
//! more (`/model/a%3A0/x` → `/model/a%253A0/x`; S3 signs the path as sent, see
//! [`SigningOptions::double_encode_path`]), the query pairs are sorted as given (already
//! encoded; [`uri_encode`] builds them), every header is signed except the ones proxies may
//! change (`user-agent`, `expect`, …), `host` comes from the URL (default port dropped), header
//! values are trimmed with inner runs of spaces collapsed. A session token is sent as
//! `x-amz-security-token` and signed.
//!
//! Used by the Bedrock and SageMaker endpoints, by llm-sim to verify signatures, and meant for
//! any other AWS request (S3 listings): [`sign`] for requests, the pieces for verifiers.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// The algorithm name in the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Headers botocore never signs (proxies and HTTP stacks may add or change them).
pub const UNSIGNED_HEADERS: [&str; 15] = [
    "authorization",
    "baggage",
    "connection",
    "expect",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "traceparent",
    "tracestate",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "x-amzn-trace-id",
];

/// AWS credentials. `Debug` shows only the access key id.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Service-specific signing rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigningOptions {
    /// URI-encode the (already encoded) path once more: every service but S3.
    pub double_encode_path: bool,
    /// Send the payload hash as `x-amz-content-sha256` (S3 requires it).
    pub content_sha256_header: bool,
}

impl Default for SigningOptions {
    fn default() -> Self {
        SigningOptions {
            double_encode_path: true,
            content_sha256_header: false,
        }
    }
}

/// A request could not be signed (the URL is not one we can sign).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignError(pub String);

impl fmt::Display for SignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The parts of an `http(s)://` URL that signing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlParts<'a> {
    /// `host` or `host:port` (lower-case; the scheme's default port dropped), as `Host` is sent.
    pub host: String,
    /// The path as sent (`/` when empty).
    pub path: &'a str,
    /// The query without `?` (empty when none).
    pub query: &'a str,
}

/// Splits an absolute `http(s)://` URL (no fragment handling beyond dropping it).
pub fn parse_url(url: &str) -> Result<UrlParts<'_>, SignError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| SignError(format!("not an absolute URL: {url:?}")))?;
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return Err(SignError(format!("not an http(s) URL: {url:?}"))),
    };
    let rest = rest.split('#').next().unwrap_or("");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, rest) = rest.split_at(authority_end);
    let authority = authority.rsplit('@').next().unwrap_or("");
    if authority.is_empty() {
        return Err(SignError(format!("URL has no host: {url:?}")));
    }
    let mut host = authority.to_ascii_lowercase();
    if host.ends_with(default_port) {
        host.truncate(host.len() - default_port.len());
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Ok(UrlParts {
        host,
        path: if path.is_empty() { "/" } else { path },
        query,
    })
}

/// Percent-encodes everything but `A-Z a-z 0-9 - _ . ~` (and `/` when `keep_slash`), with
/// upper-case hex: SigV4's URI encoding.
pub fn uri_encode(input: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for &b in input.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX_UPPER[(b >> 4) as usize] as char);
            out.push(HEX_UPPER[(b & 15) as usize] as char);
        }
    }
    out
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Hex SHA-256 of a payload (the canonical request's last line).
pub fn payload_hash(payload: &[u8]) -> String {
    hex(&Sha256::digest(payload))
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length: `new_from_slice` cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `YYYYMMDDTHHMMSSZ` of Unix milliseconds.
pub fn amz_date(now_unix_ms: f64) -> String {
    // `2015-08-30T12:36:00.000Z` → `20150830T123600Z`
    crate::time::format_utc(now_unix_ms)
        .chars()
        .take(19)
        .filter(|c| c.is_ascii_digit() || *c == 'T')
        .chain(std::iter::once('Z'))
        .collect()
}

/// The path as signed: normalized like botocore (`.`/`..` segments resolved, empty segments
/// kept) then URI-encoded again unless the service signs it as sent.
pub fn canonical_uri(path: &str, double_encode: bool) -> String {
    let normalized = normalize_path(path);
    if double_encode {
        uri_encode(&normalized, true)
    } else {
        normalized
    }
}

/// RFC 3986 dot-segment removal, keeping a trailing slash, as botocore's `normalize_url_path`.
fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut normalized = format!("/{}", out.join("/"));
    if path.ends_with('/') && normalized != "/" {
        normalized.push('/');
    }
    normalized
}

/// The query pairs sorted (by key, then value), as given (already URI-encoded).
pub fn canonical_query(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(&str, &str)> = query
        .split('&')
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(query.len() + 1);
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// A header value as signed: trimmed, inner whitespace runs collapsed to one space.
fn canonical_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical headers block (each `name:value\n`, names sorted, repeated names joined with
/// `,`) and the signed-header list (`a;b;c`). `headers` are the headers to sign, any case.
pub fn canonical_headers(headers: &[(&str, &str)]) -> (String, String) {
    let mut named: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), canonical_value(v)))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0)); // stable: repeated names keep their order
    let mut block = String::new();
    let mut signed = String::new();
    let mut previous: Option<&str> = None;
    for (name, value) in &named {
        if previous == Some(name.as_str()) {
            block.pop(); // the '\n' of the previous line
            block.push(',');
        } else {
            if previous.is_some() {
                signed.push(';');
            }
            signed.push_str(name);
            block.push_str(name);
            block.push(':');
        }
        block.push_str(value);
        block.push('\n');
        previous = Some(name.as_str());
    }
    (block, signed)
}

/// The canonical request (its lines joined with `\n`).
pub fn canonical_request(
    method: &str,
    canonical_uri: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    format!(
        "{}\n{canonical_uri}\n{canonical_query}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
        method.to_ascii_uppercase()
    )
}

/// `date/region/service/aws4_request` (`date` is `YYYYMMDD`).
pub fn credential_scope(date: &str, region: &str, service: &str) -> String {
    format!("{date}/{region}/{service}/aws4_request")
}

pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        payload_hash(canonical_request.as_bytes())
    )
}

/// The hex signature of `string_to_sign` for a secret key, day (`YYYYMMDD`), region, service.
pub fn signature(secret: &str, date: &str, region: &str, service: &str, sts: &str) -> String {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hex(&hmac(&k_signing, sts.as_bytes()))
}

/// What a request needs to be signed.
#[derive(Debug, Clone, Copy)]
pub struct SigningRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// The headers that will be sent (all are signed except [`UNSIGNED_HEADERS`]; `host` is
    /// taken from the URL).
    pub headers: &'a [(String, String)],
    /// [`payload_hash`] of the body (compute it once per body and reuse it).
    pub payload_hash: &'a str,
}

/// Signs a request: returns the headers to add (`x-amz-date`, `x-amz-security-token` with a
/// session token, `x-amz-content-sha256` when asked, and `authorization`).
pub fn sign(
    request: &SigningRequest<'_>,
    credentials: &Credentials,
    region: &str,
    service: &str,
    options: SigningOptions,
    now_unix_ms: f64,
) -> Result<Vec<(String, String)>, SignError> {
    let url = parse_url(request.url)?;
    let amz_date = amz_date(now_unix_ms);
    let mut added: Vec<(String, String)> = vec![("x-amz-date".into(), amz_date.clone())];
    if let Some(token) = credentials
        .session_token
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        added.push(("x-amz-security-token".into(), token.to_owned()));
    }
    if options.content_sha256_header {
        added.push((
            "x-amz-content-sha256".into(),
            request.payload_hash.to_owned(),
        ));
    }
    let mut to_sign: Vec<(&str, &str)> = vec![("host", url.host.as_str())];
    for (name, value) in request.headers.iter().chain(added.iter()) {
        let lower = name.to_ascii_lowercase();
        if lower != "host" && !UNSIGNED_HEADERS.contains(&lower.as_str()) {
            to_sign.push((name, value));
        }
    }
    let (headers_block, signed_headers) = canonical_headers(&to_sign);
    let creq = canonical_request(
        request.method,
        &canonical_uri(url.path, options.double_encode_path),
        &canonical_query(url.query),
        &headers_block,
        &signed_headers,
        request.payload_hash,
    );
    let date = &amz_date[..8];
    let scope = credential_scope(date, region, service);
    let sts = string_to_sign(&amz_date, &scope, &creq);
    let sig = signature(&credentials.secret_access_key, date, region, service, &sts);
    added.push((
        "authorization".into(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={sig}",
            credentials.access_key_id
        ),
    ));
    Ok(added)
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header (for verifiers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// Lower-case names, `;`-separated, as sent.
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

/// Parses an `Authorization` header value; `None` when it is not SigV4.
pub fn parse_authorization(value: &str) -> Option<ParsedAuthorization<'_>> {
    let rest = value.trim().strip_prefix(ALGORITHM)?.trim_start();
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, v) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed_headers = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let mut scope = credential?.splitn(5, '/');
    let parsed = ParsedAuthorization {
        access_key_id: scope.next()?,
        date: scope.next()?,
        region: scope.next()?,
        service: scope.next()?,
        signed_headers: signed_headers?,
        signature: signature?,
    };
    (scope.next()? == "aws4_request").then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_credentials(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: token.map(str::to_owned),
        }
    }

    /// 2015-08-30T12:36:00Z, the date of AWS's SigV4 test suite.
    const SUITE_TIME_MS: f64 = 1_440_938_160_000.0;

    fn authorization(added: &[(String, String)]) -> &str {
        &added.iter().find(|(n, _)| n == "authorization").unwrap().1
    }

    #[test]
    fn aws_test_suite_get_vanilla() {
        // `get-vanilla` of the AWS SigV4 test suite.
        let added = sign(
            &SigningRequest {
                method: "GET",
                url: "https://example.amazonaws.com/",
                headers: &[],
                payload_hash: &payload_hash(b""),
            },
            &example_credentials(None),
            "us-east-1",
            "service",
            SigningOptions::default(),
            SUITE_TIME_MS,
        )
        .unwrap();
        assert_eq!(added[0], ("x-amz-date".into(), "20150830T123600Z".into()));
        assert_eq!(
            authorization(&added),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn aws_test_suite_canonical_pieces() {
        // `get-vanilla-query-order-key-case`: pairs sorted by key then value.
        assert_eq!(
            canonical_query("Param2=value2&Param1=value1"),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(canonical_query("b=2&a=&a=1&c"), "a=&a=1&b=2&c=");
        // `get-header-value-trim` and repeated headers (`get-header-key-duplicate`).
        let (block, signed) = canonical_headers(&[
            ("My-Header1", " value1"),
            ("Host", "example.amazonaws.com"),
            ("my-header1", "value2 "),
            ("My-Header2", "\"a   b   c\""),
        ]);
        assert_eq!(
            block,
            "host:example.amazonaws.com\nmy-header1:value1,value2\nmy-header2:\"a b c\"\n"
        );
        assert_eq!(signed, "host;my-header1;my-header2");
        // `get-relative-relative`, `get-slashes`, `get-utf8`, `get-space`.
        assert_eq!(canonical_uri("/example1/example2/../..", true), "/");
        assert_eq!(canonical_uri("/./example/", true), "/example/");
        assert_eq!(canonical_uri("/ሴ", true), "/%E1%88%B4");
        assert_eq!(canonical_uri("/example space/", false), "/example space/");
        assert_eq!(
            canonical_uri("/example%20space/", true),
            "/example%2520space/"
        );
        assert_eq!(uri_encode("a b/c~d", false), "a%20b%2Fc~d");
    }

    #[test]
    fn bedrock_request_matches_botocore() {
        // Signed by botocore 1.43 `SigV4Auth(creds, "bedrock", "us-west-2")` at the suite time
        // for the same request (tests/python/test_aws_sim.py checks live signatures too).
        let body = br#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#;
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("accept".to_string(), "application/json".to_string()),
        ];
        let added = sign(
            &SigningRequest {
                method: "POST",
                url: "https://bedrock-runtime.us-west-2.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
                headers: &headers,
                payload_hash: &payload_hash(body),
            },
            &example_credentials(Some("session-token-value")),
            "us-west-2",
            "bedrock",
            SigningOptions::default(),
            SUITE_TIME_MS,
        )
        .unwrap();
        assert_eq!(
            added[1],
            (
                "x-amz-security-token".to_string(),
                "session-token-value".to_string()
            )
        );
        assert_eq!(authorization(&added), BOTOCORE_BEDROCK_AUTHORIZATION);
    }

    const BOTOCORE_BEDROCK_AUTHORIZATION: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-west-2/bedrock/aws4_request, SignedHeaders=accept;content-type;host;x-amz-date;x-amz-security-token, Signature=a9329069ef8e3643f92f5b3289c686fb1ec6151ca3dadea185e9ce4278505f28";

    #[test]
    fn urls_give_host_path_and_query() {
        let u = parse_url("http://user@LOCALHOST:8080/a/b?x=1#frag").unwrap();
        assert_eq!(
            (u.host.as_str(), u.path, u.query),
            ("localhost:8080", "/a/b", "x=1")
        );
        let u = parse_url("https://h.example:443").unwrap();
        assert_eq!((u.host.as_str(), u.path, u.query), ("h.example", "/", ""));
        assert_eq!(parse_url("http://h:80/?q").unwrap().host, "h");
        assert!(parse_url("ftp://h/").is_err());
        assert!(parse_url("/relative").is_err());
        assert!(parse_url("http:///x").is_err());
    }

    #[test]
    fn authorization_headers_parse_back() {
        let added = sign(
            &SigningRequest {
                method: "POST",
                url: "http://127.0.0.1:9/endpoints/e/invocations",
                headers: &[("User-Agent".into(), "x".into())],
                payload_hash: &payload_hash(b"{}"),
            },
            &example_credentials(None),
            "eu-west-1",
            "sagemaker",
            SigningOptions {
                double_encode_path: true,
                content_sha256_header: true,
            },
            SUITE_TIME_MS,
        )
        .unwrap();
        let parsed = parse_authorization(authorization(&added)).unwrap();
        assert_eq!(parsed.access_key_id, "AKIDEXAMPLE");
        assert_eq!(
            (parsed.date, parsed.region, parsed.service),
            ("20150830", "eu-west-1", "sagemaker")
        );
        // user-agent is never signed; the payload hash header is.
        assert_eq!(
            parsed.signed_headers,
            "host;x-amz-content-sha256;x-amz-date"
        );
        assert_eq!(parsed.signature.len(), 64);
        assert_eq!(parse_authorization("Bearer abc"), None);
        assert_eq!(parse_authorization("AWS4-HMAC-SHA256 Credential=a/b"), None);
    }

    #[test]
    fn credentials_debug_hides_secrets() {
        let shown = format!("{:?}", example_credentials(Some("tok-secret")));
        assert!(shown.contains("AKIDEXAMPLE"));
        assert!(!shown.contains("EXAMPLEKEY") && !shown.contains("tok-secret"));
    }
}
