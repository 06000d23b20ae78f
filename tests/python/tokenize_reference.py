"""Reference token ids from Python `tokenizers` for the wasm tokenizer tests.

Usage: tokenize_reference.py TOKENIZER_JSON... < texts.json (a JSON array of strings)
Prints one JSON object: {"version": ..., "results": {path: [{"ids": [...], "decoded": "..."}]}}
with ids = encode(text, add_special_tokens=False).ids and decoded = decode(ids,
skip_special_tokens=False), the contract of llmeter-wasm's Tokenizer.
"""

import json
import sys

import tokenizers
from tokenizers import Tokenizer


def main() -> None:
    texts = json.load(sys.stdin)
    results = {}
    for path in sys.argv[1:]:
        tokenizer = Tokenizer.from_file(path)
        rows = []
        for text in texts:
            ids = tokenizer.encode(text, add_special_tokens=False).ids
            rows.append({"ids": ids, "decoded": tokenizer.decode(ids, skip_special_tokens=False)})
        results[path] = rows
    json.dump({"version": tokenizers.__version__, "results": results}, sys.stdout, ensure_ascii=True)


if __name__ == "__main__":
    main()
