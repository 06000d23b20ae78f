"""Loads a run folder with the real Python llmeter and checks its stats equal our stats.json.

Usage: compare_stats.py RUN_DIR   (exit 1 with a diff on mismatch)
"""
import json
import math
import sys
from datetime import datetime

from llmeter.results import Result


def main(run_dir: str) -> int:
    ours = json.load(open(f"{run_dir}/stats.json"))
    theirs = Result.load(run_dir).stats
    bad = []
    for key in sorted(set(ours) | set(theirs)):
        a, b = ours.get(key, "<missing>"), theirs.get(key, "<missing>")
        if key == "output_path":
            continue  # LLMeter fills in the folder it loaded from
        if hasattr(b, "isoformat") and isinstance(a, str):
            a = datetime.fromisoformat(a.replace("Z", "+00:00"))  # same instant, parsed
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
            if not math.isclose(a, b, rel_tol=0, abs_tol=1e-9):
                bad.append((key, a, b))
        elif a != b:
            bad.append((key, a, b))
    if bad:
        for key, a, b in bad:
            print(f"MISMATCH {key}: ours={a!r} llmeter={b!r}")
        return 1
    print(f"stats equal: {len(ours)} keys")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
