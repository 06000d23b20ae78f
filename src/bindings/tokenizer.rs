//! Any JS object with `encode(text)` (and optionally `decode(tokens)`) as a tokenizer.

use js_sys::{Array, Function, Reflect};
use llmeter_core::tokenizer::{Tokenizer, WhitespaceTokenizer};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub struct JsTokenizer {
    obj: JsValue,
    encode: Function,
    decode: Option<Function>,
    failure: std::cell::RefCell<Option<String>>,
}

pub fn from_option(v: Option<JsValue>) -> Result<Box<dyn Tokenizer>, JsValue> {
    let Some(obj) = v else {
        return Ok(Box::new(WhitespaceTokenizer));
    };
    let encode: Function = Reflect::get(&obj, &"encode".into())?
        .dyn_into()
        .map_err(|_| super::options::type_error("tokenizer must have an encode(text) method"))?;
    let decode = Reflect::get(&obj, &"decode".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    Ok(Box::new(JsTokenizer {
        obj,
        encode,
        decode,
        failure: Default::default(),
    }))
}

impl JsTokenizer {
    fn encode(&self, text: &str) -> Option<JsValue> {
        match self.encode.call1(&self.obj, &JsValue::from_str(text)) {
            Ok(tokens) if super::options::defuse_promise(&tokens) => {
                self.fail("encode() returned a promise: it must be synchronous".into());
                None
            }
            Ok(tokens) => Some(tokens),
            Err(e) => {
                self.fail(format!("encode() threw {}", super::options::js_text(&e)));
                None
            }
        }
    }

    fn fail(&self, message: String) {
        self.failure.borrow_mut().get_or_insert(message);
    }
}

impl Tokenizer for JsTokenizer {
    fn count_tokens(&self, text: &str) -> usize {
        let Some(tokens) = self.encode(text) else {
            return 0;
        };
        let length = (tokens.is_object())
            .then(|| Reflect::get(&tokens, &"length".into()).ok())
            .flatten()
            .and_then(|l| l.as_f64())
            .filter(|l| *l >= 0.0 && l.fract() == 0.0);
        match length {
            Some(l) => l as usize,
            None => {
                self.fail(format!(
                    "encode() returned {}, not an array of tokens",
                    super::options::js_text(&tokens)
                ));
                0
            }
        }
    }

    fn failure(&self) -> Option<String> {
        self.failure.borrow().clone()
    }

    fn truncate(&self, text: &str, n: usize) -> String {
        let (Some(tokens), Some(decode)) = (self.encode(text), &self.decode) else {
            return WhitespaceTokenizer.truncate(text, n);
        };
        let Ok(slice) = Reflect::get(&tokens, &"slice".into())
            .and_then(|f| f.dyn_into::<Function>().map_err(JsValue::from))
        else {
            return WhitespaceTokenizer.truncate(text, n);
        };
        let head = slice
            .call2(
                &tokens,
                &JsValue::from_f64(0.0),
                &JsValue::from_f64(n as f64),
            )
            .unwrap_or_else(|_| Array::new().into());
        decode
            .call1(&self.obj, &head)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_default()
    }

    fn describe(&self) -> serde_json::Value {
        let name = Reflect::get(&self.obj, &"name".into())
            .ok()
            .and_then(|n| n.as_string());
        serde_json::json!({ "tokenizer_module": "javascript", "name": name })
    }
}
