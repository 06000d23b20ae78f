"""Writes the seed inputs of the tokenizer_fast_path fuzz target (run: python3 make_tokenizer_fast_path.py).

Each seed is a byte choosing the tokenizer (0 Llama 3, 1 GPT-2's ByteLevel regex, 2 Qwen 2,
3 o200k, 4 DeepSeek V3) followed by UTF-8 text: what the split patterns treat apart.
"""

import os

prose = "Hello world, it's 3:45 p.m.; don't panic! WE'LL see.  It'S  done.\n\n"
code = "fn main() {\n    let v: Vec<u32> = (0..10).map(|x| x * 2).collect();\n\tprintln!(\"{:?}\", v);\r\n}\n   \n"
scripts = "Grüße aus München! 你好，世界！東京は日本の首都です。ひらがなカタカナ Привет мир مرحبا 한국어 हिन्दी ไทย"
emoji = "emoji 😀🎉 ZWJ 👨‍👩‍👧‍👦 👩🏽‍💻 🏳️‍🌈 keycap 1️⃣ e\u0301 \u094d"
numbers = "1234567 3.14159 ٣٤٥ x² ①②③ 1,000,000 0x1F600"
spaces = "a \u00a0b\u3000c\u2028d\u0085e\u000bf  \t \n\n\n  g   "
specials = "<|begin_of_text|>Hi<|eot_id|> <|begin_of_text <|reserved_special_token_5|>x<|end_of_text|>"
cases = "HelloWORLD camelCaseWord ALLCAPS's Éclair ǅungla /path/to\n"
seeds = {
    "llama3-prose": (0, prose + code),
    "llama3-specials": (0, specials + spaces),
    "gpt2-prose": (1, prose + numbers),
    "gpt2-spaces": (1, spaces + code),
    "qwen2-scripts": (2, scripts + emoji),
    "o200k-cases": (3, cases + prose),
    "deepseek-scripts": (4, scripts + numbers + "‘quoted’　。"),
    "deepseek-code": (4, code + emoji),
}
os.makedirs("tokenizer_fast_path", exist_ok=True)
for name, (choice, text) in seeds.items():
    with open(os.path.join("tokenizer_fast_path", name), "wb") as f:
        f.write(bytes([choice]) + text.encode())
