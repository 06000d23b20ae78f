//! The options of the AWS kinds (`bedrockConverse`, `bedrockInvoke`, `sagemaker`), read for
//! [`crate::endpoint::config::build`].

use super::{
    AwsAuth, AwsTarget, BedrockConverseEndpoint, BedrockInvokeEndpoint, ConverseConfig,
    InvokeBodyFormat, InvokeConfig, InvokePaths, SageMakerConfig, SageMakerEndpoint,
};
use crate::endpoint::config::ConfigReader;
use crate::endpoint::json_path::JsonPath;
use crate::endpoint::Endpoint;
use crate::runner::{range_err, type_err, OptionError};
use crate::sigv4::Credentials;

/// The endpoint of an AWS `kind`.
pub fn build(kind: &str, r: &ConfigReader) -> Result<Box<dyn Endpoint>, OptionError> {
    Ok(match kind {
        "bedrockConverse" => Box::new(BedrockConverseEndpoint::new(converse_config(r)?)),
        "bedrockInvoke" => Box::new(BedrockInvokeEndpoint::new(invoke_config(r)?)),
        _ => Box::new(SageMakerEndpoint::new(sagemaker_config(r)?)),
    })
}

/// Region, endpoint URL, credentials and headers of an AWS endpoint. Either SigV4 credentials
/// (`accessKeyId` + `secretAccessKey`, optional `sessionToken`) or, where `api_key` allows it, a
/// Bedrock API key (`apiKey`).
fn aws_target(r: &ConfigReader, api_key: bool) -> Result<AwsTarget, OptionError> {
    let region = r.required_string("region")?;
    if !region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(range_err(
            "region",
            format!("must be an AWS region name such as \"us-east-1\", got {region:?}"),
        ));
    }
    let endpoint_url = match r.string("endpointUrl")? {
        Some(_) => Some(r.url("endpointUrl")?),
        None => None,
    };
    let access_key = r.string("accessKeyId")?.filter(|s| !s.is_empty());
    let secret = r.string("secretAccessKey")?.filter(|s| !s.is_empty());
    let session_token = r.string("sessionToken")?.filter(|s| !s.is_empty());
    let key = r.string("apiKey")?.filter(|s| !s.is_empty());
    if key.is_some() && !api_key {
        return Err(type_err(
            "apiKey",
            "is for Bedrock only: SageMaker takes accessKeyId and secretAccessKey (SigV4)",
        ));
    }
    let how = if api_key {
        "give accessKeyId and secretAccessKey (SigV4), or apiKey (a Bedrock API key)"
    } else {
        "give accessKeyId and secretAccessKey (SigV4)"
    };
    let auth = match (access_key, secret, key) {
        (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
            return Err(type_err(
                "apiKey",
                "cannot be combined with accessKeyId / secretAccessKey (choose one)",
            ))
        }
        (Some(access_key_id), Some(secret_access_key), None) => AwsAuth::SigV4(Credentials {
            access_key_id,
            secret_access_key,
            session_token,
        }),
        (Some(_), None, None) => {
            return Err(type_err("secretAccessKey", format!("is required: {how}")))
        }
        (None, Some(_), None) => {
            return Err(type_err("accessKeyId", format!("is required: {how}")))
        }
        (None, None, Some(_)) if session_token.is_some() => {
            return Err(type_err(
                "sessionToken",
                "goes with accessKeyId / secretAccessKey, not apiKey",
            ))
        }
        (None, None, Some(token)) => AwsAuth::BearerToken(token),
        (None, None, None) => return Err(type_err("accessKeyId", format!("is required: {how}"))),
    };
    Ok(AwsTarget {
        region,
        endpoint_url,
        auth,
        extra_headers: r.string_map("headers")?,
    })
}

fn path_option(r: &ConfigReader, key: &'static str) -> Result<Option<JsonPath>, OptionError> {
    match r.string(key)? {
        None => Ok(None),
        Some(p) => JsonPath::parse(&p).map(Some).map_err(|e| range_err(key, e)),
    }
}

fn converse_config(r: &ConfigReader) -> Result<ConverseConfig, OptionError> {
    let inference_config = r.object("inferenceConfig")?;
    Ok(ConverseConfig {
        target: aws_target(r, true)?,
        model: r.required_string("model")?,
        stream: r.bool("stream")?.unwrap_or(true),
        inference_config,
        ttft_visible_tokens_only: r.bool("ttftVisibleTokensOnly")?.unwrap_or(true),
        endpoint_name: r.string("endpointName")?,
    })
}

fn invoke_config(r: &ConfigReader) -> Result<InvokeConfig, OptionError> {
    let stream = r.bool("stream")?.unwrap_or(true);
    let body_format = match r.string("bodyFormat")? {
        None => InvokeBodyFormat::OpenAI,
        Some(name) => InvokeBodyFormat::from_name(&name).ok_or_else(|| {
            range_err(
                "bodyFormat",
                format!(
                    "unknown body format {name:?} (known: {})",
                    InvokeBodyFormat::NAMES.join(", ")
                ),
            )
        })?,
    };
    let defaults = InvokePaths::defaults(body_format, stream);
    // An empty string switches an optional path off (LLMeter's `None`).
    let optional =
        |key: &'static str, default: Option<JsonPath>| -> Result<Option<JsonPath>, OptionError> {
            match r.string(key)? {
                Some(s) if s.is_empty() => Ok(None),
                Some(_) => path_option(r, key),
                None => Ok(default),
            }
        };
    let paths = InvokePaths {
        generated_text: path_option(r, "generatedTextPath")?.unwrap_or(defaults.generated_text),
        input_text: path_option(r, "inputTextPath")?.unwrap_or(defaults.input_text),
        generated_token_count: optional("generatedTokenCountPath", defaults.generated_token_count)?,
        input_token_count: optional("inputTokenCountPath", defaults.input_token_count)?,
        reasoning_text: optional("reasoningTextPath", defaults.reasoning_text)?,
    };
    Ok(InvokeConfig {
        target: aws_target(r, true)?,
        model: r.required_string("model")?,
        stream,
        body_format,
        paths,
        ttft_visible_tokens_only: r.bool("ttftVisibleTokensOnly")?.unwrap_or(true),
        endpoint_name: r.string("endpointName")?,
    })
}

fn sagemaker_config(r: &ConfigReader) -> Result<SageMakerConfig, OptionError> {
    let (text, input, count) = SageMakerConfig::default_paths();
    let token_count = match r.string("tokenCountPath")? {
        Some(s) if s.is_empty() => None,
        Some(_) => path_option(r, "tokenCountPath")?,
        None => Some(count),
    };
    let endpoint_name = r.required_string("endpointName")?;
    Ok(SageMakerConfig {
        target: aws_target(r, false)?,
        model: r.string("model")?.unwrap_or_else(|| endpoint_name.clone()),
        endpoint_name,
        stream: r.bool("stream")?.unwrap_or(true),
        generated_text: path_option(r, "generatedTextPath")?.unwrap_or(text),
        input_text: path_option(r, "inputTextPath")?.unwrap_or(input),
        token_count,
        ttft_visible_tokens_only: r.bool("ttftVisibleTokensOnly")?.unwrap_or(true),
    })
}
