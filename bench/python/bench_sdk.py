#!/usr/bin/env python3
"""Verdicts per second seen from Python: TinyV over gRPC vs Math-Verify in-process.

Runs the HardVerify-Math dev answers, repeated to --items, through
  - TinyVClient.verify in a loop (one call per item),
  - TinyVClient.verify_batch in batches of 1,024,
  - TinyVClient.stream over one stream (and AsyncTinyVClient.stream),
and Math-Verify (parse + verify, bare answers wrapped in \\boxed{}) on the same
items in this process on one core, which is what verl's default reward manager
does. Starts its own `tinyv serve` unless --target is given.

Usage (from the repo root): bench/python/run.sh [--items 10000] [--mv-items N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from tinyv_client import AsyncTinyVClient, TinyVClient, VerifyRequest

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_CANDIDATES = [REPO_ROOT.parent / "shared" / "data" / "hardverify-math-dev.jsonl"]


def find_data(explicit: Optional[str]) -> Path:
    for path in [Path(explicit)] if explicit else DATA_CANDIDATES:
        if path.exists():
            return path
    sys.exit(f"bench: HardVerify-Math dev data not found (tried {DATA_CANDIDATES}); pass --data")


def load_items(path: Path, count: int) -> Tuple[List[VerifyRequest], List[bool]]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    items, labels = [], []
    for i in range(count):
        row = rows[i % len(rows)]
        items.append(VerifyRequest(row["ground_truth"], row["response"], row["question"], id=str(i)))
        labels.append(bool(row["label"]))
    return items, labels


def start_server(extra: List[str]) -> Tuple[subprocess.Popen, str]:
    """`tinyv serve` on a free port; its first stdout line names the gRPC address."""
    cmd = ["node", str(REPO_ROOT / "bin" / "tinyv.js"), "serve", "--port", "0", "--http-port", "0",
           "--log-level", "warn", *extra]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("listening on "):
        proc.kill()
        sys.exit(f"bench: tinyv serve did not start (first line: {line!r})")
    return proc, line.split("listening on ", 1)[1].strip()


def timed(label: str, count: int, run: Callable[[], list]) -> dict:
    start = time.perf_counter()
    verdicts = run()
    seconds = time.perf_counter() - start
    assert len(verdicts) == count, f"{label}: {len(verdicts)} verdicts for {count} items"
    rate = count / seconds
    print(f"  {label:<28} {count:>6} items  {seconds:7.2f} s  {rate:>9,.0f} verdicts/s", flush=True)
    return {"label": label, "items": count, "seconds": seconds, "rate": rate, "verdicts": verdicts}


def boxed(answer: str) -> str:
    """Math-Verify wants a boxed answer; the dataset holds bare ones (gold sometimes in $...$)."""
    text = answer.strip()
    if len(text) > 1 and text.startswith("$") and text.endswith("$"):
        text = text.strip("$")
    return "\\boxed{" + text + "}"


def math_verify_all(items: List[VerifyRequest]) -> list:
    from math_verify import parse, verify

    return [bool(verify(parse(boxed(i.ground_truth)), parse(boxed(i.response)))) for i in items]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, Python {platform.python_version()}, Node {node}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--mv-items", type=int, default=None, help="Math-Verify items (default: all)")
    parser.add_argument("--data", help="path of hardverify-math-dev.jsonl")
    parser.add_argument("--target", help="use this running server instead of starting one")
    parser.add_argument("--server-arg", action="append", default=[], help="extra `tinyv serve` flag")
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args()

    data = find_data(args.data)
    items, labels = load_items(data, args.items)
    print(f"machine: {machine()}")
    print(
        f"data: {data.name}, {len(set(i.ground_truth + i.response for i in items))} distinct items repeated to {len(items)}"
    )
    proc = None
    target = args.target
    if target is None:
        proc, target = start_server(args.server_arg)
    results = []
    try:
        with TinyVClient(target, timeout=600) as client:
            print(f"server: tinyv {client.get_server_info().version} at {target}, "
                  f"{client.get_server_info().rule_workers} rule workers")  # fmt: skip
            client.verify_batch(items[:256])  # warm up workers and the connection
            print("TinyV from Python:")
            results.append(timed("verify (loop)", len(items), lambda: [
                client.verify(i.ground_truth, i.response, i.question, id=i.id) for i in items
            ]))  # fmt: skip
            results.append(timed(f"verify_batch ({args.batch})", len(items), lambda: [
                v for k in range(0, len(items), args.batch) for v in client.verify_batch(items[k : k + args.batch])
            ]))  # fmt: skip
            results.append(timed(f"stream ({len(items)})", len(items), lambda: list(client.stream(items))))

        async def astream() -> list:
            async with AsyncTinyVClient(target, timeout=600) as aclient:
                return [v async for v in aclient.stream(items)]

        results.append(timed(f"async stream ({len(items)})", len(items), lambda: asyncio.run(astream())))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)

    mv_count = len(items) if args.mv_items is None else min(args.mv_items, len(items))
    print("Math-Verify in-process (one core):")
    mv = timed("math_verify.parse+verify", mv_count, lambda: math_verify_all(items[:mv_count]))

    stream_rate = next(r["rate"] for r in results if r["label"].startswith("stream"))
    print(f"stream / Math-Verify: {stream_rate / mv['rate']:.1f}x (floor: 20x)")
    tinyv_right = [v.correct == label for v, label in zip(results[2]["verdicts"], labels)]
    mv_right = [ok == label for ok, label in zip(mv["verdicts"], labels)]
    print(f"agreement with labels: TinyV rules {sum(tinyv_right) / len(tinyv_right):.1%}, "
          f"Math-Verify {sum(mv_right) / len(mv_right):.1%}")  # fmt: skip
    if args.json:
        out = [{k: v for k, v in r.items() if k != "verdicts"} for r in results + [mv]]
        Path(args.json).write_text(json.dumps({"machine": machine(), "results": out}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
