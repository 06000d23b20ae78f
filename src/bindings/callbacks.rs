//! LLMeter callbacks from JS: the package's built-ins (`CostModel`, `CacheBuster`, recognised by
//! their `_builtin` description) run natively in the core; any other object's `beforeRun`,
//! `beforeInvoke` and `afterInvoke` methods are called (and awaited when they return a promise),
//! editing the config, payload or response in place as in LLMeter. `afterRun` is called by
//! `Runner.run` on the JS `Result`.

use super::options::{to_json, type_error, OptionReader};
use super::result::to_js;
use futures::FutureExt;
use js_sys::{Function, Promise, Reflect};
use llmeter_core::callbacks::cache_buster::CacheBuster;
use llmeter_core::callbacks::cost::CostModel;
use llmeter_core::callbacks::{Callback, HookFuture};
use llmeter_core::response::InvocationResponse;
use serde_json::{Map, Value};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// A callback object written in JS.
pub struct JsCallback {
    obj: JsValue,
    before_run: Option<Function>,
    before_invoke: Option<Function>,
    after_invoke: Option<Function>,
    name: String,
    /// The exception a hook threw, rethrown as is when it fails the run (`beforeRun`).
    pub last_error: RefCell<Option<JsValue>>,
}

fn method(obj: &JsValue, name: &str) -> Result<Option<Function>, JsValue> {
    let v = Reflect::get(obj, &name.into())?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<Function>()
        .map(Some)
        .map_err(|_| type_error(&format!("callbacks: {name} must be a function")))
}

/// An Error's message, a thrown string as is, any other value named (`threw 0`).
fn message_of(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| format!("threw {}", super::options::js_text(e)))
}

impl JsCallback {
    fn new(obj: JsValue) -> Result<JsCallback, JsValue> {
        let name = Reflect::get(&obj, &"constructor".into())
            .ok()
            .and_then(|c| Reflect::get(&c, &"name".into()).ok())
            .and_then(|n| n.as_string())
            .filter(|n| !n.is_empty() && n != "Object")
            .unwrap_or_else(|| "callback".into());
        Ok(JsCallback {
            before_run: method(&obj, "beforeRun")?,
            before_invoke: method(&obj, "beforeInvoke")?,
            after_invoke: method(&obj, "afterInvoke")?,
            obj,
            name,
            last_error: RefCell::new(None),
        })
    }

    /// Calls `f(arg)` and awaits it when it returns a promise (or a thenable).
    async fn call(&self, f: &Function, arg: &JsValue) -> Result<(), String> {
        let outcome = match f.call1(&self.obj, arg) {
            Ok(ret) if ret.is_undefined() => Ok(JsValue::UNDEFINED),
            Ok(ret) => JsFuture::from(Promise::resolve(&ret)).await,
            Err(e) => Err(e),
        };
        outcome.map(|_| ()).map_err(|e| {
            let message = message_of(&e);
            *self.last_error.borrow_mut() = Some(e);
            message
        })
    }
}

impl Callback for JsCallback {
    fn before_run<'a>(&'a self, run_config: &'a mut Map<String, Value>) -> HookFuture<'a> {
        async move {
            let Some(f) = &self.before_run else {
                return Ok(());
            };
            let js = to_js(&*run_config).map_err(|e| message_of(&e))?;
            self.call(f, &js).await?;
            match to_json(&js, "runConfig") {
                Ok(Value::Object(edited)) => *run_config = edited,
                Ok(_) => return Err("beforeRun left runConfig not an object".into()),
                Err(e) => return Err(message_of(&e)),
            }
            Ok(())
        }
        .boxed_local()
    }

    fn has_before_invoke(&self) -> bool {
        self.before_invoke.is_some()
    }

    fn before_invoke<'a>(&'a self, payload: &'a mut Value) -> HookFuture<'a> {
        async move {
            let Some(f) = &self.before_invoke else {
                return Ok(());
            };
            let js = to_js(&*payload).map_err(|e| message_of(&e))?;
            self.call(f, &js).await?;
            *payload = to_json(&js, "payload").map_err(|e| message_of(&e))?;
            Ok(())
        }
        .boxed_local()
    }

    fn has_after_invoke(&self) -> bool {
        self.after_invoke.is_some()
    }

    fn after_invoke<'a>(&'a self, response: &'a mut InvocationResponse) -> HookFuture<'a> {
        async move {
            let Some(f) = &self.after_invoke else {
                return Ok(());
            };
            let js = to_js(&*response).map_err(|e| message_of(&e))?;
            self.call(f, &js).await?;
            let edited = to_json(&js, "response").map_err(|e| message_of(&e))?;
            let mut edited = InvocationResponse::from_json_value(edited)?;
            // Unchanged payloads stay shared with the other responses of the same payload.
            if edited.input_payload.as_deref() == response.input_payload.as_deref() {
                edited.input_payload = response.input_payload.clone();
            }
            *response = edited;
            Ok(())
        }
        .boxed_local()
    }

    fn name(&self) -> String {
        self.name.clone()
    }
}

/// One callback of the `callbacks` option.
pub enum AnyCallback {
    Js(JsCallback),
    Cost(CostModel),
    CacheBuster(CacheBuster),
}

impl AnyCallback {
    pub fn as_callback(&self) -> &dyn Callback {
        match self {
            AnyCallback::Js(c) => c,
            AnyCallback::Cost(c) => c,
            AnyCallback::CacheBuster(c) => c,
        }
    }

    /// The exception a JS hook threw last, if it was one.
    pub fn thrown(&self) -> Option<JsValue> {
        match self {
            AnyCallback::Js(c) => c.last_error.borrow_mut().take(),
            _ => None,
        }
    }
}

/// The `callbacks` option: an array of callback objects. `seed` seeds the cache buster's tags.
pub fn from_option(value: Option<JsValue>, seed: u64) -> Result<Vec<AnyCallback>, JsValue> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    if !js_sys::Array::is_array(&value) {
        return Err(type_error("callbacks must be an array of callback objects"));
    }
    js_sys::Array::from(&value)
        .iter()
        .enumerate()
        .map(|(i, cb)| {
            if !cb.is_object() {
                return Err(type_error(&format!("callbacks[{i}] must be an object")));
            }
            let builtin = Reflect::get(&cb, &"_builtin".into())?;
            if builtin.is_object() {
                let r = OptionReader::new(&builtin)?;
                return match r.string("kind")?.as_deref() {
                    Some("CostModel") => CostModel::from_config(&to_json(&builtin, "CostModel")?)
                        .map(AnyCallback::Cost)
                        .map_err(|e| super::options::option_error(&e)),
                    Some("CacheBuster") => Ok(AnyCallback::CacheBuster(CacheBuster::new(seed))),
                    other => Err(type_error(&format!(
                        "callbacks[{i}]: unknown built-in callback {other:?}"
                    ))),
                };
            }
            JsCallback::new(cb).map(AnyCallback::Js)
        })
        .collect()
}

/// Checks a `CostModel`'s options (errors name the option) and returns LLMeter's envelope for it.
#[wasm_bindgen(js_name = costModelEnvelope)]
pub fn cost_model_envelope(config: JsValue) -> Result<JsValue, JsValue> {
    let model = CostModel::from_config(&to_json(&config, "CostModel")?)
        .map_err(|e| super::options::option_error(&e))?;
    to_js(&model.envelope())
}
