/** What the hardening benches share: a server's memory and metrics, the probe, percentiles. */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import type { Tinyv } from "../../test/support/tinyv.js";

export const MB = 1024 * 1024;
export const NON_READER = fileURLToPath(new URL("../../test/support/non-reader.mjs", import.meta.url));
const PROBE = fileURLToPath(new URL("./probe.mjs", import.meta.url));

/** Resident memory of a process (Linux), bytes. */
export const rssBytes = (pid: number): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;

/** Resident memory of the server and its rule-worker threads (one process), MiB. */
export const rssMiB = (t: Tinyv) => Math.round(rssBytes(t.proc.pid as number) / MB);

export async function metric(t: Tinyv, name: string): Promise<number> {
  const text = await (await fetch(`${t.httpUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return {
    n: s.length,
    p50: r(percentile(s, 50)),
    p99: r(percentile(s, 99)),
    max: r(s.at(-1) ?? Number.NaN),
  };
}

/** A plain-Verify probe in a process of its own; stop() returns its samples [s, ms, ok]. */
export function startProbe(address: string, intervalMs: number) {
  const child = spawn(process.execPath, [PROBE, address, String(intervalMs)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d;
  });
  return {
    async stop(): Promise<[number, number, boolean][]> {
      child.stdin.end();
      await once(child, "exit");
      return JSON.parse(out).samples;
    },
  };
}

/** A careless client (test/support/non-reader.mjs) as a process; resolves when it has left. */
export function nonReader(t: Tinyv, n: number, size: number, holdMs: number, how: "exit" | "cancel") {
  const child: ChildProcess = spawn(
    process.execPath,
    [NON_READER, t.grpcAddress, String(n), String(size), String(holdMs), how],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  return once(child, "exit");
}

export const machine = () =>
  `${os.cpus().length} x ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
