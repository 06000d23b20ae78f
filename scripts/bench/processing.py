"""Python side of the processing-cost bench: `tokenizers` speed and LLMeter stats for a run folder.

argv: "tokenize" <tokenizer.json> <text file> <chunk chars> <repeats>
      "stats" <run folder>
Prints one JSON line. Memory is peak RSS growth over the RSS before the measured work (KiB → MB).
"""

import json
import resource
import sys
import time


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def tokenize(tokenizer_json: str, text_file: str, chunk: int, repeats: int) -> dict:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(tokenizer_json)
    text = open(text_file, encoding="utf-8").read()
    pieces = [text[i : i + chunk] for i in range(0, len(text), chunk)]
    tok.encode(pieces[0], add_special_tokens=False)  # warm-up
    runs = []
    tokens = 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        tokens = sum(len(tok.encode(p, add_special_tokens=False).ids) for p in pieces)
        runs.append(tokens / (time.perf_counter() - t0))
    return {"tokens": tokens, "tokensPerSecond": runs}


def stats(folder: str) -> dict:
    from llmeter.results import Result

    base = rss_mb()
    t0 = time.perf_counter()
    result = Result.load(folder)
    s = result.stats
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "responses": len(result.responses), "ttftP50": s.get("time_to_first_token-p50"), "peakRssMb": peak_mb(), "rssGrowthMb": peak_mb() - base}


if __name__ == "__main__":
    mode = sys.argv[1]
    out = tokenize(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])) if mode == "tokenize" else stats(sys.argv[2])
    sys.stdout.write(json.dumps(out) + "\n")
