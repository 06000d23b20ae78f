//! Who may call the Bedrock and SageMaker routes: SigV4 signatures checked against the
//! credentials given on the command line (`--aws-access-key-id`, `--aws-secret-access-key`,
//! optional `--aws-session-token`), and Bedrock API keys (`--bedrock-api-key`, sent as
//! `Authorization: Bearer …`). Without any of them configured, every request is let in.
//!
//! Refusals answer as AWS does (403, `x-amzn-ErrorType`, `{"message": …}`), with AWS's
//! messages: a wrong signature is `InvalidSignatureException`, and so is a request dated more
//! than `--aws-max-skew-s` (default 5 minutes) away from the simulator's clock.

use hyper::{HeaderMap, StatusCode};
use llmeter_core::sigv4;

use super::AwsError;
use crate::config::Config;

const BAD_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const BAD_TOKEN: &str = "The security token included in the request is invalid.";

/// The parts of a received request that signing covers.
pub struct SignedParts<'a> {
    pub method: &'a str,
    /// The path as received (still percent-encoded).
    pub path: &'a str,
    pub query: &'a str,
    /// `Host`, or the h2 `:authority`.
    pub host: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

fn forbidden(error_type: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(StatusCode::FORBIDDEN, error_type, message)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `YYYYMMDDTHHMMSSZ` → Unix ms.
fn parse_amz_date(text: &str) -> Option<f64> {
    let b = text.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let iso = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &text[0..4],
        &text[4..6],
        &text[6..8],
        &text[9..11],
        &text[11..13],
        &text[13..15]
    );
    llmeter_core::time::parse_utc(&iso)
}

/// Checks a request for `service` (`bedrock` or `sagemaker`) at wall-clock `now_unix_ms`.
pub fn check(
    config: &Config,
    service: &str,
    request: &SignedParts<'_>,
    now_unix_ms: f64,
) -> Result<(), AwsError> {
    let sigv4_configured = config.aws_access_key_id.is_some();
    if !sigv4_configured && config.bedrock_api_keys.is_empty() {
        return Ok(());
    }
    let Some(authorization) = header(request.headers, "authorization") else {
        return Err(forbidden(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    if let Some(token) = authorization.strip_prefix("Bearer ") {
        return if service == "bedrock" && config.bedrock_api_keys.iter().any(|k| k == token.trim())
        {
            Ok(())
        } else if service == "bedrock" {
            Err(forbidden("UnrecognizedClientException", BAD_TOKEN))
        } else {
            Err(forbidden(
                "IncompleteSignatureException",
                "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
            ))
        };
    }
    let Some(auth) = sigv4::parse_authorization(authorization) else {
        return Err(forbidden(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
        ));
    };
    let (Some(key_id), Some(secret)) = (
        config.aws_access_key_id.as_deref(),
        config.aws_secret_access_key.as_deref(),
    ) else {
        return Err(forbidden("UnrecognizedClientException", BAD_TOKEN));
    };
    if auth.access_key_id != key_id {
        return Err(forbidden("UnrecognizedClientException", BAD_TOKEN));
    }
    if let Some(expected) = config.aws_session_token.as_deref() {
        if header(request.headers, "x-amz-security-token") != Some(expected) {
            return Err(forbidden("UnrecognizedClientException", BAD_TOKEN));
        }
    }
    let Some(amz_date) = header(request.headers, "x-amz-date") else {
        return Err(forbidden(
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ));
    };
    let Some(signed_at) = parse_amz_date(amz_date) else {
        return Err(forbidden(
            "IncompleteSignatureException",
            format!("Date must be in ISO-8601 'basic format'. Got '{amz_date}'."),
        ));
    };
    if auth.date != &amz_date[..8] {
        return Err(forbidden(
            "InvalidSignatureException",
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
                auth.date,
                &amz_date[..8]
            ),
        ));
    }
    if auth.service != service {
        return Err(forbidden(
            "InvalidSignatureException",
            format!("Credential should be scoped to correct service: '{service}'. "),
        ));
    }
    let skew_ms = config.aws_max_skew_s as f64 * 1000.0;
    let minutes = config.aws_max_skew_s as f64 / 60.0;
    if signed_at < now_unix_ms - skew_ms {
        return Err(forbidden(
            "InvalidSignatureException",
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - {minutes} min.)",
                sigv4::amz_date(now_unix_ms - skew_ms),
                sigv4::amz_date(now_unix_ms)
            ),
        ));
    }
    if signed_at > now_unix_ms + skew_ms {
        return Err(forbidden(
            "InvalidSignatureException",
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + {minutes} min.)",
                sigv4::amz_date(now_unix_ms + skew_ms),
                sigv4::amz_date(now_unix_ms)
            ),
        ));
    }
    // The signature over what arrived, for the headers the client says it signed.
    let mut signed: Vec<(String, String)> = Vec::new();
    for name in auth.signed_headers.split(';') {
        if name == "host" {
            signed.push(("host".into(), request.host.to_owned()));
            continue;
        }
        let values: Vec<&str> = request
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            return Err(forbidden("InvalidSignatureException", BAD_SIGNATURE));
        }
        for value in values {
            signed.push((name.to_owned(), value.to_owned()));
        }
    }
    let pairs: Vec<(&str, &str)> = signed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (headers_block, signed_headers) = sigv4::canonical_headers(&pairs);
    let payload_hash = header(request.headers, "x-amz-content-sha256")
        .map(str::to_owned)
        .unwrap_or_else(|| sigv4::payload_hash(request.body));
    let canonical = sigv4::canonical_request(
        request.method,
        &sigv4::canonical_uri(request.path, true),
        &sigv4::canonical_query(request.query),
        &headers_block,
        &signed_headers,
        &payload_hash,
    );
    let scope = sigv4::credential_scope(auth.date, auth.region, auth.service);
    let string_to_sign = sigv4::string_to_sign(amz_date, &scope, &canonical);
    let expected = sigv4::signature(
        secret,
        auth.date,
        auth.region,
        auth.service,
        &string_to_sign,
    );
    // A stated payload hash must also be the body's (or say it is unsigned).
    let body_ok =
        payload_hash == "UNSIGNED-PAYLOAD" || payload_hash == sigv4::payload_hash(request.body);
    if expected != auth.signature || !body_ok {
        return Err(forbidden("InvalidSignatureException", BAD_SIGNATURE));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use llmeter_core::sigv4::{sign, Credentials, SigningOptions, SigningRequest};

    const NOW: f64 = 1_735_732_800_000.0; // 2025-01-01T12:00:00Z

    fn config(extra: &[&str]) -> Config {
        let mut args = vec![
            "llm-sim",
            "--aws-access-key-id",
            "AKIDSIM",
            "--aws-secret-access-key",
            "sim-secret",
            "--bedrock-api-key",
            "sim-api-key",
        ];
        args.extend_from_slice(extra);
        Config::parse_from(args)
    }

    fn signed(secret: &str, at: f64, body: &[u8], service: &str) -> HeaderMap {
        let headers = vec![("content-type".to_string(), "application/json".to_string())];
        let added = sign(
            &SigningRequest {
                method: "POST",
                url: "http://127.0.0.1:8000/model/m%3A0/converse",
                headers: &headers,
                payload_hash: &sigv4::payload_hash(body),
            },
            &Credentials {
                access_key_id: "AKIDSIM".into(),
                secret_access_key: secret.into(),
                session_token: None,
            },
            "us-east-1",
            service,
            SigningOptions::default(),
            at,
        )
        .unwrap();
        let mut map = HeaderMap::new();
        for (k, v) in headers.iter().chain(added.iter()) {
            map.insert(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        map
    }

    fn check_with(
        config: &Config,
        headers: &HeaderMap,
        body: &[u8],
        now: f64,
    ) -> Result<(), AwsError> {
        check(
            config,
            "bedrock",
            &SignedParts {
                method: "POST",
                path: "/model/m%3A0/converse",
                query: "",
                host: "127.0.0.1:8000",
                headers,
                body,
            },
            now,
        )
    }

    #[test]
    fn good_signatures_pass_and_bad_ones_get_aws_answers() {
        let c = config(&[]);
        let body = b"{}";
        assert_eq!(
            check_with(
                &c,
                &signed("sim-secret", NOW, body, "bedrock"),
                body,
                NOW + 1000.0
            ),
            Ok(())
        );
        let wrong_secret =
            check_with(&c, &signed("other", NOW, body, "bedrock"), body, NOW).unwrap_err();
        assert_eq!(
            (wrong_secret.error_type, wrong_secret.message.as_str()),
            ("InvalidSignatureException", BAD_SIGNATURE)
        );
        let tampered =
            check_with(&c, &signed("sim-secret", NOW, body, "bedrock"), b"{ }", NOW).unwrap_err();
        assert_eq!(tampered.error_type, "InvalidSignatureException");
        let expired = check_with(
            &c,
            &signed("sim-secret", NOW - 301_000.0, body, "bedrock"),
            body,
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            expired.message,
            "Signature expired: 20250101T115459Z is now earlier than 20250101T115500Z (20250101T120000Z - 5 min.)"
        );
        assert_eq!(expired.status, StatusCode::FORBIDDEN);
        let future = check_with(
            &c,
            &signed("sim-secret", NOW + 301_000.0, body, "bedrock"),
            body,
            NOW,
        )
        .unwrap_err();
        assert!(
            future
                .message
                .starts_with("Signature not yet current: 20250101T120501Z"),
            "{}",
            future.message
        );
        let wrong_service =
            check_with(&c, &signed("sim-secret", NOW, body, "sagemaker"), body, NOW).unwrap_err();
        assert_eq!(
            wrong_service.message,
            "Credential should be scoped to correct service: 'bedrock'. "
        );
        let mut missing = HeaderMap::new();
        assert_eq!(
            check_with(&c, &missing, body, NOW).unwrap_err().error_type,
            "MissingAuthenticationTokenException"
        );
        missing.insert("authorization", "Bearer sim-api-key".parse().unwrap());
        assert_eq!(check_with(&c, &missing, body, NOW), Ok(()));
        missing.insert("authorization", "Bearer nope".parse().unwrap());
        assert_eq!(
            check_with(&c, &missing, body, NOW).unwrap_err().error_type,
            "UnrecognizedClientException"
        );
        // A required session token.
        let with_token = config(&["--aws-session-token", "tok"]);
        let unsigned_token = check_with(
            &with_token,
            &signed("sim-secret", NOW, body, "bedrock"),
            body,
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            (unsigned_token.error_type, unsigned_token.message.as_str()),
            ("UnrecognizedClientException", BAD_TOKEN)
        );
        // Nothing configured: anyone.
        assert_eq!(
            check_with(
                &Config::parse_from(["llm-sim"]),
                &HeaderMap::new(),
                body,
                NOW
            ),
            Ok(())
        );
    }
}
