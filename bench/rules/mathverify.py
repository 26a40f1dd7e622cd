"""Math-Verify on the same items as bench/rules/latency.mjs: per-item latency and accuracy.

Usage: bench/.venv/bin/python bench/rules/mathverify.py DATA.jsonl OUT.json
Gold and response are each wrapped in \\boxed{} (Math-Verify's extraction needs a delimiter).
"""

import json
import os
import statistics
import sys
import time

from math_verify import parse, verify


def run_once(rows):
    times, accepted = [], []
    for r in rows:
        t0 = time.perf_counter()
        try:
            gold = parse("\\boxed{" + r["ground_truth"] + "}")
            ans = parse("\\boxed{" + r["response"] + "}")
            ok = bool(verify(gold, ans))
        except Exception:  # Math-Verify may raise on odd input; count as reject
            ok = False
        times.append((time.perf_counter() - t0) * 1000)
        accepted.append(ok)
    return times, accepted


def main():
    path, out = sys.argv[1], sys.argv[2]
    rows = [json.loads(l) for l in open(path, encoding="utf8") if l.strip()]
    passes = int(os.environ.get("PASSES", "3"))
    run_once(rows)  # warm-up: imports, caches
    # Per-item median over several passes, as latency.mjs does: the machine is shared.
    runs = [run_once(rows) for _ in range(passes)]
    times = [statistics.median(r[0][i] for r in runs) for i in range(len(rows))]
    accepted = runs[0][1]
    json.dump(
        {
            "ids": [r["id"] for r in rows],
            "ms": times,
            "accepted": accepted,
            "labels": [bool(r["label"]) for r in rows],
        },
        open(out, "w"),
    )
    print(f"math-verify: median {statistics.median(times):.3f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
