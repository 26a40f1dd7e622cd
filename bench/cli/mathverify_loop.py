"""Math-Verify's verify loop over labelled JSONL files, as one whole process: the figure `tinyv eval`
is timed against in bench/cli/startup.sh.

Usage: python bench/cli/mathverify_loop.py FILE.jsonl [FILE ...]
Prints one JSON line: n, accepted, accuracy, loop seconds. Golds are wrapped in \\boxed{} (they are bare);
so is a bare one-line answer (HardVerify), as bench/rules/mathverify.py does; a chain of thought (GSM8K) is
parsed as it stands, with Math-Verify's default extraction, as a trainer's reward function would call it.
"""

import json
import sys
import time

from math_verify import parse, verify


def boxed(s):
    return s if "\\boxed" in s else "\\boxed{" + s + "}"


def main():
    rows = [json.loads(line) for path in sys.argv[1:] for line in open(path, encoding="utf8") if line.strip()]
    t0 = time.perf_counter()
    accepted = right = 0
    for r in rows:
        response = r["response"]
        try:
            gold = parse(boxed(r["ground_truth"]))
            ans = parse(boxed(response) if "\n" not in response else response)
            ok = bool(verify(gold, ans))
        except Exception:  # Math-Verify may raise on odd input: a reject
            ok = False
        accepted += ok
        right += ok == bool(r["label"])
    seconds = time.perf_counter() - t0
    print(json.dumps({"n": len(rows), "accepted": accepted, "accuracy": right / max(1, len(rows)), "loop_s": seconds}))


if __name__ == "__main__":
    main()
