//! Endpoints from the JS API: each JS endpoint class hands the engine a plain config object
//! (`{kind, …}`); the core reads and checks it ([`llmeter_core::endpoint::config::build`]).

use super::custom::JsHooks;
use super::options::{option_error, range_error, to_json, type_error};
use super::result::to_js;
use llmeter_core::endpoint::config;
use llmeter_core::endpoint::custom::CustomHooks;
use llmeter_core::endpoint::{Endpoint, UserMessage};
use serde_json::Value;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The endpoint of a JS endpoint config. Functions (a custom endpoint's hooks) do not survive
/// the JSON conversion: they are taken from the object itself.
pub fn from_js(spec: &JsValue) -> Result<Box<dyn Endpoint>, JsValue> {
    let value = to_json(spec, "endpoint")?;
    let hooks: Option<Rc<dyn CustomHooks>> = match value.get("kind").and_then(Value::as_str) {
        Some("custom") => JsHooks::from_spec(spec)?.map(|h| Rc::new(h) as Rc<dyn CustomHooks>),
        _ => None,
    };
    config::build_with(&value, hooks).map_err(|e| option_error(&e))
}

/// LLMeter's `create_payload` for any endpoint: `message` is a string or an array of strings;
/// `extra` is merged in.
#[wasm_bindgen(js_name = createPayload)]
pub fn create_payload(
    endpoint: JsValue,
    message: JsValue,
    max_tokens: f64,
    extra: JsValue,
) -> Result<JsValue, JsValue> {
    let endpoint = from_js(&endpoint)?;
    let message = match to_json(&message, "message")? {
        Value::String(s) => UserMessage::Text(s),
        Value::Array(items) => UserMessage::Parts(
            items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(type_error(
                        "message must be a string or an array of strings",
                    )),
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => {
            return Err(type_error(
                "message must be a string or an array of strings",
            ))
        }
    };
    if !(max_tokens.is_finite() && max_tokens >= 1.0 && max_tokens.fract() == 0.0) {
        return Err(range_error("maxTokens must be a positive integer"));
    }
    let extra = match extra.is_undefined() || extra.is_null() {
        true => Default::default(),
        false => match to_json(&extra, "extra")? {
            Value::Object(m) => m,
            _ => return Err(type_error("extra must be an object")),
        },
    };
    let payload = endpoint
        .create_payload(&message, max_tokens as u64, &extra)
        .map_err(|e| type_error(&e.to_string()))?;
    to_js(&payload)
}

/// LLMeter's class name and identity of an endpoint config (what results record), so the JS
/// classes never keep their own copy of the naming rules.
#[wasm_bindgen(js_name = endpointInfo)]
pub fn endpoint_info(endpoint: JsValue) -> Result<JsValue, JsValue> {
    to_js(&from_js(&endpoint)?.info())
}
