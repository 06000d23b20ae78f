//! A custom endpoint's hooks over JS functions. `js/endpoints/custom.js` wraps the user's
//! functions so each one here is a single call with plain values: `read(data, event, id)`
//! returns the checked reading as a 9-slot array (or nothing), `request(payload)` a string or
//! bytes. Either may be absent (read paths instead of a function are the core's). Nothing here
//! holds a rule.

use super::result::to_js;
use js_sys::{Array, Function, Reflect, Uint8Array};
use llmeter_core::endpoint::custom::{CustomEvent, CustomHooks, Reading, ReadingUsage};
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub struct JsHooks {
    read: Option<Function>,
    request: Option<Function>,
}

/// The message of a thrown value.
fn thrown(e: JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(err) => format!(
            "{}: {}",
            String::from(err.name()),
            String::from(err.message())
        ),
        None => e.as_string().unwrap_or_else(|| super::options::js_text(&e)),
    }
}

fn function(hooks: &JsValue, name: &str) -> Result<Option<Function>, JsValue> {
    let v = Reflect::get(hooks, &name.into())?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<Function>()
        .map(Some)
        .map_err(|_| js_sys::TypeError::new(&format!("{name} must be a function")).into())
}

impl JsHooks {
    /// The wrapped functions of a custom endpoint config (`{…, hooks: {read, request, …}}`);
    /// `None` without any (the core then needs read paths).
    pub fn from_spec(spec: &JsValue) -> Result<Option<JsHooks>, JsValue> {
        let hooks = Reflect::get(spec, &"hooks".into())?;
        if !hooks.is_object() {
            return Ok(None);
        }
        let hooks = JsHooks {
            read: function(&hooks, "read")?,
            request: function(&hooks, "request")?,
        };
        Ok((hooks.read.is_some() || hooks.request.is_some()).then_some(hooks))
    }
}

fn js_payload(payload: &Value) -> Result<JsValue, String> {
    to_js(payload).map_err(thrown)
}

impl CustomHooks for JsHooks {
    fn body(&self, payload: &Value) -> Result<Option<Vec<u8>>, String> {
        let Some(f) = &self.request else {
            return Ok(None);
        };
        // The wrapper always hands back bytes (strings and objects encoded there).
        let out = f
            .call1(&JsValue::NULL, &js_payload(payload)?)
            .map_err(thrown)?;
        Ok(Some(Uint8Array::new(&out).to_vec()))
    }

    fn read(&self, event: CustomEvent<'_>) -> Result<Reading, String> {
        let this = &JsValue::NULL;
        // Read paths replace the function (the JS class passes one or the other).
        let read = self.read.as_ref().ok_or("read is required (a function)")?;
        let out = match event {
            CustomEvent::Sse { event, data, id } => {
                // The type as EventSource reports it: `message` when the field was absent.
                let kind = if event.is_empty() { "message" } else { event };
                read.call3(this, &data.into(), &kind.into(), &id.into())
            }
            // Lines, chunks and bodies as bytes: the wrapper knows which (the endpoint's
            // framing and stream options) and decodes text with a TextDecoder.
            CustomEvent::Line(b) | CustomEvent::Body(b) | CustomEvent::Bytes(b) => {
                read.call1(this, &Uint8Array::from(b))
            }
            // An event-stream message: payload bytes, then its event and message types.
            CustomEvent::Event {
                event_type,
                message_type,
                payload,
            } => read.call3(
                this,
                &Uint8Array::from(payload),
                &event_type.into(),
                &message_type.into(),
            ),
        }
        .map_err(thrown)?;
        if out.is_undefined() || out.is_null() {
            return Ok(Reading::default());
        }
        // [text, reasoning, id, error, done, input, output, inputCached, outputReasoning]
        let slots: Array = out
            .dyn_into()
            .map_err(|_| "internal: reading not encoded")?;
        let count = |i| slots.get(i).as_f64().map(|n| n as u64);
        Ok(Reading {
            text: slots.get(0).as_string(),
            reasoning: slots.get(1).is_truthy(),
            id: slots.get(2).as_string(),
            error: slots.get(3).as_string(),
            done: slots.get(4).is_truthy(),
            usage: ReadingUsage {
                input: count(5),
                output: count(6),
                input_cached: count(7),
                output_reasoning: count(8),
            },
        })
    }
}
