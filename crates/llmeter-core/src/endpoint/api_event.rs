//! A borrowed view of one JSON event of OpenAI's Responses API and Anthropic's Messages API,
//! for the per-token events: the `type` and the `delta`. The common event is read by the byte
//! scanner ([`crate::json_scan`]: no allocation, other fields skipped unread); anything else by
//! serde_json as a value, which is the rule the scanner must agree with ([`event_views`],
//! checked by the `sse_openai` fuzz target). The few other events a family reads (a response's
//! id and usage, a message's usage, an error) are parsed again as JSON values by the family.
//!
//! `delta` is a string in one format ([`TextEvent`]) and an object in the other
//! ([`BlockEvent`]). Text fields are lenient (another type reads as absent); an object field
//! of another type makes the event malformed.

use super::payload::{object_at, str_at};
use crate::json_scan::Scan;
use serde_json::Value;
use std::borrow::Cow;

/// A Responses API event: its type and (text deltas) the delta text.
#[derive(Debug, PartialEq)]
pub(crate) struct TextEvent<'a> {
    pub kind: Option<Cow<'a, str>>,
    pub delta: Option<Cow<'a, str>>,
}

/// A Messages API event: its type and (block deltas) the delta object.
#[derive(Debug, PartialEq)]
pub(crate) struct BlockEvent<'a> {
    pub kind: Option<Cow<'a, str>>,
    pub delta: Option<BlockDelta<'a>>,
}

#[derive(Debug, PartialEq)]
pub(crate) struct BlockDelta<'a> {
    pub kind: Option<Cow<'a, str>>,
    pub text: Option<Cow<'a, str>>,
    pub partial_json: Option<Cow<'a, str>>,
}

/// Where an event read by serde_json is kept while its view borrows from it.
pub(crate) type Parsed = Option<Value>;

/// An event by the scanner, else by serde_json's value (kept in `parsed`, and returned so that
/// a family reading more of the event does not parse it again).
fn read<'a, T>(
    data: &'a str,
    parsed: &'a mut Parsed,
    scan: fn(&'a str) -> Option<T>,
    from_value: fn(&'a Value) -> Option<T>,
) -> Option<(T, Option<&'a Value>)> {
    if let Some(event) = scan(data) {
        return Some((event, None));
    }
    let value: &'a Value = parsed.insert(serde_json::from_str(data).ok()?);
    Some((from_value(value)?, Some(value)))
}

/// The whole event as a JSON value, for the events whose other fields a family reads: the
/// value `read` already made, else `data` parsed (it was read once, so it is valid JSON).
pub(crate) fn event_value<'v>(data: &str, parsed: Option<&'v Value>) -> Cow<'v, Value> {
    match parsed {
        Some(value) => Cow::Borrowed(value),
        None => Cow::Owned(serde_json::from_str(data).unwrap_or(Value::Null)),
    }
}

impl<'a> TextEvent<'a> {
    /// The event (and serde_json's value of it, when the scanner left it), or `None` when it
    /// is malformed.
    pub fn read(data: &'a str, parsed: &'a mut Parsed) -> Option<(Self, Option<&'a Value>)> {
        read(data, parsed, Self::scan, Self::from_value)
    }

    fn scan(data: &'a str) -> Option<Self> {
        let mut s = Scan::new(data);
        let (mut kind, mut delta) = (None, None);
        s.fields(&["type", "delta"], |field, s| {
            *if field == 0 { &mut kind } else { &mut delta } = s.string_or_null()?;
            Some(())
        })?;
        s.end()?;
        Some(TextEvent { kind, delta })
    }

    fn from_value(v: &'a Value) -> Option<Self> {
        v.is_object().then(|| TextEvent {
            kind: str_at(v, "type"),
            delta: str_at(v, "delta"),
        })
    }
}

impl<'a> BlockEvent<'a> {
    /// The event (and serde_json's value of it, when the scanner left it), or `None` when it
    /// is malformed.
    pub fn read(data: &'a str, parsed: &'a mut Parsed) -> Option<(Self, Option<&'a Value>)> {
        read(data, parsed, Self::scan, Self::from_value)
    }

    fn scan(data: &'a str) -> Option<Self> {
        let mut s = Scan::new(data);
        let (mut kind, mut delta) = (None, None);
        s.fields(&["type", "delta"], |field, s| {
            if field == 0 {
                kind = s.string_or_null()?;
            } else if !s.null()? {
                let (mut kind, mut text, mut partial_json) = (None, None, None);
                s.fields(&["type", "text", "partial_json"], |field, s| {
                    *[&mut kind, &mut text, &mut partial_json][field] = s.string_or_null()?;
                    Some(())
                })?;
                delta = Some(BlockDelta {
                    kind,
                    text,
                    partial_json,
                });
            }
            Some(())
        })?;
        s.end()?;
        Some(BlockEvent { kind, delta })
    }

    fn from_value(v: &'a Value) -> Option<Self> {
        if !v.is_object() {
            return None;
        }
        Some(BlockEvent {
            kind: str_at(v, "type"),
            delta: object_at(v, "delta")?.map(|d| BlockDelta {
                kind: str_at(d, "type"),
                text: str_at(d, "text"),
                partial_json: str_at(d, "partial_json"),
            }),
        })
    }
}

/// What an event means to each format's reader, by the scanner (`None`: left to serde_json)
/// and by serde_json (`None`: malformed): `[(text scanned, text by serde), (block scanned,
/// block by serde)]`. Where the scanner reads an event, the two must be equal.
#[doc(hidden)]
pub fn event_views(data: &str) -> [(Option<String>, Option<String>); 2] {
    let value = serde_json::from_str::<Value>(data).ok();
    let view = |e: &dyn std::fmt::Debug| format!("{e:?}");
    [
        (
            TextEvent::scan(data).map(|e| view(&e)),
            value
                .as_ref()
                .and_then(TextEvent::from_value)
                .map(|e| view(&e)),
        ),
        (
            BlockEvent::scan(data).map(|e| view(&e)),
            value
                .as_ref()
                .and_then(BlockEvent::from_value)
                .map(|e| view(&e)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events the scanner reads (each in at least one format).
    const SCANNED: &[&str] = &[
        r#"{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi","sequence_number":4,"logprobs":[]}"#,
        r#"{"type":"response.output_text.delta","delta":"a\nb \"q\" \u00e9"}"#,
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#,
        r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":"}}"#,
        r#"{"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":5}}}"#,
        r#"{"type":null,"delta":null}"#,
        r#"{}"#,
    ];

    /// Events left to serde_json in both formats: serde reads them, or finds them malformed.
    const LEFT_TO_SERDE: &[&str] = &[
        r#"{"type":7,"delta":{"type":"text_delta","text":5}}"#,
        r#"{"type":"t","type":"u"}"#,
        r#"{"ty\u0070e":"content_block_delta"}"#,
        r#"{"type":"content_block_delta","delta":"\ud83d\ude00"}"#,
        r#"["type","delta"]"#,
        r#"{"type":"x"} trailing"#,
        r#"{"type":"x",}"#,
        r#"{"n":01}"#,
        r#"{"id":6666666666E66666666666666666666666}"#,
        r#"{"type":"raw	tab"}"#,
    ];

    fn agree(data: &str) -> [bool; 2] {
        event_views(data).map(|views| crate::json_scan::agrees(data, views))
    }

    #[test]
    fn the_scanner_reads_the_common_events_as_serde_json_does() {
        for data in SCANNED {
            assert_ne!(
                agree(data),
                [false, false],
                "the scanner should read {data}"
            );
        }
        for data in LEFT_TO_SERDE {
            assert_eq!(
                agree(data),
                [false, false],
                "the scanner should leave {data} to serde_json"
            );
        }
        // A string delta is a text event's, an object delta a block event's.
        assert_eq!(agree(SCANNED[0]), [true, false]);
        assert_eq!(agree(SCANNED[2]), [false, true]);
    }

    #[test]
    fn both_readers_give_the_fields_the_rules_read() {
        let mut parsed = None;
        let (e, value) = BlockEvent::read(SCANNED[3], &mut parsed).unwrap();
        assert_eq!(value, None, "scanned without serde_json");
        assert_eq!(e.kind.as_deref(), Some("content_block_delta"));
        let d = e.delta.unwrap();
        assert_eq!(
            (d.kind.as_deref(), d.text, d.partial_json.as_deref()),
            (Some("input_json_delta"), None, Some("{\"a\":"))
        );
        // Left to serde_json: lenient text, strict objects; its value is handed back.
        let mut parsed = None;
        let (e, value) = BlockEvent::read(LEFT_TO_SERDE[0], &mut parsed).unwrap();
        assert_eq!(
            (e.kind, e.delta.map(|d| (d.kind, d.text))),
            (None, Some((Some("text_delta".into()), None)))
        );
        let expected: Value = serde_json::from_str(LEFT_TO_SERDE[0]).unwrap();
        assert_eq!(value, Some(&expected));
        assert_eq!(
            event_value(LEFT_TO_SERDE[0], value),
            Cow::<Value>::Borrowed(&expected)
        );
        assert_eq!(
            event_value(SCANNED[3], None).into_owned(),
            serde_json::from_str::<Value>(SCANNED[3]).unwrap()
        );
        assert_eq!(
            BlockEvent::read(r#"{"type":"content_block_delta","delta":"x"}"#, &mut None),
            None
        );
        assert_eq!(BlockEvent::read("[]", &mut None), None);
        let mut parsed = None;
        let (e, _) = TextEvent::read(LEFT_TO_SERDE[3], &mut parsed).unwrap();
        assert_eq!(e.delta.as_deref(), Some("😀"));
        // A repeated key: the last one, as Python's json module (and LLMeter) reads it.
        let mut parsed = None;
        let (e, _) = TextEvent::read(LEFT_TO_SERDE[1], &mut parsed).unwrap();
        assert_eq!(e.kind.as_deref(), Some("u"));
        assert_eq!(TextEvent::read("{\"type\":", &mut None), None);
    }

    #[test]
    fn the_scanner_never_disagrees_with_serde_json_on_mutated_events() {
        let variants = crate::json_scan::mutations(SCANNED.iter().chain(LEFT_TO_SERDE));
        for v in &variants {
            let _ = agree(v);
        }
        assert!(variants.len() > 10_000, "{}", variants.len());
    }
}
