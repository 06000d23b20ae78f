"""Loads a LoadTest folder with the real Python llmeter (`LoadTestResult.load`) and checks every
level's stats equal our stats.json there (see compare_stats.py for the rules).

Usage: compare_load_test.py TEST_DIR EXPECTED_CLIENTS...   (exit 1 with a diff on mismatch)
"""
import os
import sys

os.environ.setdefault("LLMETER_DISABLE_ALL_PROGRESS_BARS", "1")

from llmeter.experiments import LoadTestResult  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from compare_stats import main as compare_run  # noqa: E402


def main(test_dir: str, expected: list[int]) -> int:
    loaded = LoadTestResult.load(test_dir)
    clients = sorted(loaded.results)
    if clients != expected:
        print(f"MISMATCH clients: llmeter={clients} expected={expected}")
        return 1
    print(f"llmeter LoadTestResult.load: test_name={loaded.test_name} clients={clients}")
    bad = 0
    for c in clients:
        run_dir = os.path.join(test_dir, f"{c:05d}-clients")
        bad |= compare_run(run_dir)
        if loaded.results[c].total_requests != len(loaded.results[c].responses):
            print(f"MISMATCH {c} clients: total_requests vs responses")
            bad = 1
    return bad


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], [int(x) for x in sys.argv[2:]]))
