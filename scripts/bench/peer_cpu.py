"""Runs a peer tool and writes the CPU time of its whole process tree (user+system of every
reaped descendant, startup and report writing included) to a JSON file.

argv: <out.json> <command> [args...]; exits with the command's exit code.
"""

import json
import resource
import subprocess
import sys
import time

out, command = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
code = subprocess.call(command)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    json.dump({"exitCode": code, "seconds": time.perf_counter() - t0, "cpuS": r.ru_utime + r.ru_stime}, f)
sys.exit(code)
