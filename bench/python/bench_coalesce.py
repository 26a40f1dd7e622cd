#!/usr/bin/env python3
"""verl's reward-loop shape: per-sample calls, coalesced onto one stream, against one VerifyStream.

GRPO samples (groups of --group answers to one prompt, 3 distinct answers per group, from the
HardVerify-Math dev set) are verified in fresh worker processes, each scenario in every rep, in
turn, against the same server:

  stream          TinyVClient.stream of every sample, one process (the baseline)
  astream         AsyncTinyVClient.stream, one process (the baseline for asyncio callers)
  async x1 / x8   per-sample `await AsyncTinyVClient(coalesce=True).verify`, --inflight per process,
                  from 1 and from --procs processes (verl's reward loop: one RewardLoopWorker each)
  threads         per-sample `TinyVClient(coalesce=True).verify` from --threads threads, one process
                  (verl's `remote` manager, OpenRLHF)
  unary ...       the same without coalescing: one unary call each (what the SDK did before)
  grpc-js         the grpc-js client streaming the same samples (Node), for the Python stream's cost

Workers warm up (channel open, a few calls), wait at a barrier, then run; a scenario's time runs
from the barrier to its last verdict. Twice: rules only, and with the vLLM stand-in
(bench/llm/fake-vllm-main.ts, --llm-latency-ms per call, verdict cache off so every rep calls it).

Usage (from the repo root, after `npm run build`): bench/python/run.sh coalesce [--reps 3] [--json F]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from bench_sdk import find_data, machine

from tinyv_client import AsyncTinyVClient, TinyVClient, VerifyRequest

REPO_ROOT = Path(__file__).resolve().parents[2]
TS = ["node", "--import", "./bench/llm/ts.mjs"]


def grpo_samples(data: Path, samples: int, group: int) -> List[Dict[str, str]]:
    """Groups of `group` answers per prompt: the dataset's answer, the gold, and a wrong one."""
    rows = [json.loads(line) for line in data.read_text().splitlines() if line.strip()]
    out = []
    for p in range(samples // group):
        row = rows[p % len(rows)]
        answers = [row["response"], row["ground_truth"], f"{row['ground_truth']} + 1"]
        for j in range(group):
            answer = answers[(j * 5) % 3 if j % 4 else 0]
            out.append({
                "id": f"{p}-{j}",
                "question": f"{row['question']} (prompt {p})",  # distinct: no LLM calls shared across groups
                "ground_truth": row["ground_truth"],
                "response": f"Let me work it out step by step. ... So the answer is \\boxed{{{answer}}}.",
            })  # fmt: skip
    return out


# -- workers (fresh processes) ------------------------------------------------------


def _requests(items: List[Dict[str, str]]) -> List[VerifyRequest]:
    return [VerifyRequest(i["ground_truth"], i["response"], i["question"], id=i["id"]) for i in items]


def _run(
    kind: str, target: str, items: List[Dict[str, str]], inflight: int, threads: int, barrier: Any
) -> list:
    """Warm up, wait at the barrier, run; return (start, end, cpu seconds, verdict count, reward sum)."""
    requests = _requests(items)
    warm = requests[:64]
    began: List[float] = []

    def go() -> None:
        barrier.wait()
        began.extend([time.perf_counter(), time.process_time()])

    def done(rewards: List[float]) -> list:
        return [began[0], time.perf_counter(), time.process_time() - began[1], len(rewards), sum(rewards)]

    if kind in ("stream", "threads", "threads-unary"):
        with TinyVClient(target, timeout=600, coalesce=kind == "threads") as client:
            if kind == "stream":
                list(client.stream(warm))
                go()
                return done([v.reward for v in client.stream(requests)])

            def call(r: VerifyRequest) -> float:
                return client.verify(r.ground_truth, r.response, r.question, id=r.id).reward

            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(call, warm))
                go()
                return done(list(pool.map(call, requests)))

    async def main() -> list:
        async with AsyncTinyVClient(target, timeout=600, coalesce=kind == "async") as client:
            verify = client.verify
            if kind == "astream":
                [v async for v in client.stream(warm)]
                go()
                return done([v.reward async for v in client.stream(requests)])
            limit = asyncio.Semaphore(inflight)

            async def one(r: VerifyRequest) -> float:
                async with limit:  # verl's reward loop: a bounded number of samples in flight
                    return (await verify(r.ground_truth, r.response, r.question, id=r.id)).reward

            await asyncio.gather(*(one(r) for r in warm))
            go()
            return done(list(await asyncio.gather(*(one(r) for r in requests))))

    return asyncio.run(main())


def _worker(kind, target, items, inflight, threads, barrier, results) -> None:
    try:
        results.put(_run(kind, target, items, inflight, threads, barrier))
    except BaseException as error:  # report, never hang the parent
        barrier.abort()
        results.put(repr(error))


def scenario(kind: str, procs: int, target: str, items: list, inflight: int, threads: int) -> dict:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(procs)
    results = ctx.Queue()
    shares = [items[k::procs] for k in range(procs)]
    workers = [
        ctx.Process(
            target=_worker,
            args=(kind, target, share, inflight, threads, barrier, results),
        )
        for share in shares
    ]
    for w in workers:
        w.start()
    got = [results.get(timeout=900) for _ in workers]
    for w in workers:
        w.join(60)
    failed = [g for g in got if isinstance(g, str)]
    if failed:
        raise RuntimeError(f"{kind} x{procs}: {failed[0]}")
    start, end = min(g[0] for g in got), max(g[1] for g in got)
    count = sum(g[3] for g in got)
    assert count == len(items), f"{kind}: {count} verdicts for {len(items)} samples"
    cpu = sum(g[2] for g in got)
    return {"seconds": end - start, "rate": count / (end - start), "cpu_us": cpu / count * 1e6,
            "rewards": sum(g[4] for g in got)}  # fmt: skip


# -- servers -------------------------------------------------------------------------


def start(cmd: List[str], prefix: str) -> Tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith(prefix):
        proc.kill()
        sys.exit(f"bench: {' '.join(cmd)} did not start (first line: {line!r})")
    threading.Thread(target=proc.stdout.read, daemon=True).start()
    return proc, line[len(prefix) :].strip()


def serve(extra: List[str]) -> Tuple[subprocess.Popen, str, str]:
    cmd = [
        "node",
        "bin/tinyv.js",
        "serve",
        "--port",
        "0",
        "--http-port",
        "0",
        "--log-level",
        "warn",
        *extra,
    ]
    proc, target = start(cmd, "listening on ")
    return proc, target, ""


def grpcjs(target: str, items: list, reps: int) -> List[float]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write("\n".join(json.dumps(i) for i in items))
    out = subprocess.run([*TS, "bench/python/grpcjs_stream.ts", target, f.name, str(reps)],
                         cwd=REPO_ROOT, capture_output=True, text=True, check=True)  # fmt: skip
    os.unlink(f.name)
    return [json.loads(line)["rate"] for line in out.stdout.splitlines() if line.startswith("{")]


# -- where the time goes ------------------------------------------------------------------


def profile(target: str, items: list) -> None:
    requests = _requests(items)
    with TinyVClient(target, timeout=600) as client:
        start, cpu, main_cpu = time.perf_counter(), time.process_time(), time.thread_time()
        count = sum(1 for _ in client.stream(requests))
        seconds = time.perf_counter() - start
        cpu, main_cpu = time.process_time() - cpu, time.thread_time() - main_cpu
    print(f"  TinyVClient.stream, {count} items, {count / seconds:,.0f}/s; CPU per item:")
    other = (cpu - main_cpu) / count * 1e6
    print(f"    the reading thread (ledger, verdicts, gRPC's receive) {main_cpu / count * 1e6:7.1f} us")
    print(f"    gRPC's own threads (request iterator, sends, polling) {other:7.1f} us")
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("  (pip install pyinstrument for the asyncio profile)")
        return

    async def astream() -> None:
        async with AsyncTinyVClient(target, timeout=600) as client:
            async for _ in client.stream(requests):
                pass

    profiler = Profiler(interval=0.0005, async_mode="disabled")
    profiler.start()
    asyncio.run(astream())
    profiler.stop()
    print("  AsyncTinyVClient.stream under pyinstrument (one thread: all of its time):")
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    print("\n".join("    " + line for line in text.splitlines()[:60]))


# -- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16_384)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--inflight", type=int, default=128)
    parser.add_argument("--procs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=64)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--llm-latency-ms", type=int, default=20)
    parser.add_argument("--only", choices=["rules", "llm"], help="one server setup only")
    parser.add_argument("--skip", action="append", default=[], help="scenario label to leave out")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also show where the Python stream's time goes",
    )
    parser.add_argument("--data")
    parser.add_argument("--json")
    args = parser.parse_args()

    items = grpo_samples(find_data(args.data), args.samples, args.group)
    print(f"machine: {machine()}")
    print(f"samples: {len(items)} ({len(items) // args.group} prompts x {args.group}), {args.reps} reps each")
    plan = [
        ("stream", "stream", 1), ("astream", "astream", 1),
        (f"async x1 ({args.inflight} in flight)", "async", 1),
        (f"async x{args.procs} ({args.inflight} in flight each)", "async", args.procs),
        (f"threads ({args.threads})", "threads", 1),
        (f"unary async x1 ({args.inflight} in flight)", "async-unary", 1),
        (f"unary threads ({args.threads})", "threads-unary", 1),
    ]  # fmt: skip
    plan = [p for p in plan if p[0].split(" (")[0] not in args.skip and p[0] not in args.skip]
    setups = {"rules": [], "llm": ["--cache-entries", "0"]}
    report: Dict[str, Any] = {"machine": machine(), "samples": len(items), "setups": {}}
    for setup, flags in setups.items():
        if args.only and setup != args.only:
            continue
        standin: Optional[subprocess.Popen] = None
        if setup == "llm":
            standin, url = start(
                [*TS, "bench/llm/fake-vllm-main.ts", str(args.llm_latency_ms)],
                "fake vllm ",
            )
            flags = [*flags, "--llm-url", url]
        server, target, _ = serve(flags)
        print(f"\n== {setup}: tinyv serve {' '.join(flags)}")
        runs: Dict[str, List[dict]] = {label: [] for label, _, _ in plan}
        js: List[float] = []
        try:
            for rep in range(args.reps):
                for label, kind, procs in plan:
                    r = scenario(kind, procs, target, items, args.inflight, args.threads)
                    runs[label].append(r)
                    line = f"{r['rate']:>8,.0f}/s {r['cpu_us']:6.0f} us CPU/sample"
                    print(f"  rep {rep + 1} {label:<36} {line}", flush=True)
                if setup == "rules":
                    js += grpcjs(target, items, 1)
                    print(
                        f"  rep {rep + 1} {'grpc-js stream (Node)':<36} {js[-1]:>8,.0f}/s",
                        flush=True,
                    )
            if args.profile and setup == "rules":
                print("\n  where the Python stream's time goes:")
                profile(target, items)
        finally:
            server.terminate()
            server.wait(30)
            if standin is not None:
                standin.terminate()
        summary = summarize(runs, js)
        report["setups"][setup] = {"runs": runs, "grpcjs": js, "summary": summary}
        print_summary(setup, summary)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


def summarize(runs: Dict[str, List[dict]], js: List[float]) -> Dict[str, dict]:
    """Median rate per scenario, and its median ratio to each baseline run in the same rep."""
    out = {}
    for label, rs in runs.items():
        entry = {
            "rate": statistics.median(r["rate"] for r in rs),
            "cpu_us": statistics.median(r["cpu_us"] for r in rs),
        }
        for base in ("stream", "astream"):
            if base in runs and runs[base]:
                entry[f"vs_{base}"] = statistics.median(r["rate"] / b["rate"] for r, b in zip(rs, runs[base]))
        out[label] = entry
    if js:
        out["grpc-js stream (Node)"] = {"rate": statistics.median(js)}
    return out


def print_summary(setup: str, summary: Dict[str, dict]) -> None:
    print(f"\n  {setup}: median of the reps (ratio: the same rep's stream run)")
    print(f"  {'scenario':<44} {'verdicts/s':>10} {'CPU us':>7} {'/stream':>8} {'/astream':>9}")
    for label, e in summary.items():
        ratios = [f"{e[k]:.0%}" if k in e else "" for k in ("vs_stream", "vs_astream")]
        cpu = f"{e['cpu_us']:.0f}" if "cpu_us" in e else ""
        print(f"  {label:<44} {e['rate']:>10,.0f} {cpu:>7} {ratios[0]:>8} {ratios[1]:>9}")


if __name__ == "__main__":
    sys.exit(main())
