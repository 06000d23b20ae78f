//! The lean byte path's promise: once a response streams, a chunk costs the engine no heap
//! allocation (buffers grow by doubling, so their growth is a few allocations per response, not
//! one per chunk). Counted with a counting global allocator around the real OpenAI chat parser,
//! fed events shaped as llm-sim and OpenAI send them. Its own test binary: nothing else runs
//! while it counts.

use llmeter_core::endpoint::openai::{OpenAIConfig, OpenAIEndpoint};
use llmeter_core::endpoint::{Endpoint, ParseLimits, ResponseParser};
use llmeter_core::transport::ResponseHead;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.load(Ordering::Relaxed)
}

fn content_event(text: &str) -> Vec<u8> {
    format!(
        "data: {{\"id\":\"chatcmpl-4f2a9c\",\"object\":\"chat.completion.chunk\",\"created\":1764700000,\"model\":\"sim-model\",\"system_fingerprint\":\"fp_sim\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":{}}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n",
        serde_json::to_string(text).unwrap()
    )
    .into_bytes()
}

/// Allocations while `chunks` chunks stream into one response, after a warm-up of 64.
/// `split` cuts every event in two chunks (the buffered path) instead of one whole event each.
fn allocations_while_streaming(chunks: usize, split: bool, text: &str) -> usize {
    let endpoint = OpenAIEndpoint::new(OpenAIConfig {
        base_url: "http://127.0.0.1:9/v1".into(),
        model: "sim-model".into(),
        stream: true,
        ..Default::default()
    });
    let event = content_event(text);
    let (first, second) = event.split_at(event.len() / 2);
    let mut parser = endpoint.parser(ParseLimits::default());
    parser.on_head(&ResponseHead {
        status: 200,
        headers: vec![("content-type".into(), "text/event-stream".into())],
        arrival_ms: 1.0,
        sent_ms: Some(0.0),
    });
    let mut at = 2.0;
    let mut feed = |parser: &mut Box<dyn ResponseParser>| {
        at += 1.0;
        if split {
            parser.on_chunk(first, at);
            parser.on_chunk(second, at + 0.5);
        } else {
            parser.on_chunk(&event, at);
        }
    };
    for _ in 0..64 {
        feed(&mut parser);
    }
    let before = allocations();
    for _ in 0..chunks {
        feed(&mut parser);
    }
    let counted = allocations() - before;
    parser.on_chunk(b"data: [DONE]\n\n", at + 1.0);
    let parsed = parser.finish(at + 1.0, None);
    assert_eq!(parsed.error, None);
    // Every event was read: one content arrival each, and all the text.
    assert_eq!(parsed.content_chunk_ms.len(), 64 + chunks);
    assert_eq!(
        parsed.text.as_deref(),
        Some(text.repeat(64 + chunks).as_str())
    );
    counted
}

#[test]
fn a_streamed_chunk_costs_no_allocation() {
    for split in [false, true] {
        for text in [" word", " tokens with \\\"quotes\\\"", "\u{4e2d}\u{6587}"] {
            let short = allocations_while_streaming(1_000, split, text);
            let long = allocations_while_streaming(4_000, split, text);
            // Doubling buffers: four times the chunks add at most a couple of growths each.
            assert!(
                long <= 40 && long - short.min(long) <= 12,
                "{text:?} split {split}: {short} allocations for 1,000 chunks, {long} for 4,000"
            );
        }
    }
}
