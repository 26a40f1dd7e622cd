"""Math-Verify 0.9.0 and tinyv's rules on the same family rows, accuracy per family.

Usage: python bench/rules/families.py FAMILIES.jsonl TINYV_OUT.jsonl
TINYV_OUT is `tinyv eval FAMILIES.jsonl --mode rules --out TINYV_OUT.jsonl`. Math-Verify is called as a
trainer's reward function calls it: parse(gold), parse(response), verify; a one-line bare response is
wrapped in \\boxed{} first (as bench/rules/mathverify.py does), a longer one is parsed as it stands.
"""

import collections
import json
import sys

from math_verify import parse, verify


def boxed(s):
    return s if "\\boxed" in s else "\\boxed{" + s + "}"


def mv(gold, response):
    try:
        return bool(verify(parse(boxed(gold)), parse(response if "\n" in response else boxed(response))))
    except Exception:  # a crash is a reject
        return False


def main():
    rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf8") if l.strip()]
    ours = {json.loads(l)["id"]: json.loads(l) for l in open(sys.argv[2], encoding="utf8") if l.strip()}
    stats = collections.defaultdict(lambda: [0, 0, 0])  # n, ours right, math-verify right
    for r in rows:
        s = stats[r["family"]]
        s[0] += 1
        s[1] += bool(ours[r["id"]]["correct"]) == r["label"]
        s[2] += mv(r["ground_truth"], r["response"]) == r["label"]
    print(f"{'family':28} {'n':>6} {'tinyv':>8} {'math-verify':>12}")
    for fam in sorted(stats):
        n, a, b = stats[fam]
        print(f"{fam:28} {n:6d} {a / n:8.1%} {b / n:12.1%}")


if __name__ == "__main__":
    main()
