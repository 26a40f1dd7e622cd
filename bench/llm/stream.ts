// The LLM verifier through the whole server: `tinyv serve` (the built binary) with the vLLM stand-in
// (its own process, fixed latency) as its backend, driven over one gRPC VerifyStream.
// Build first (`npm run build`), then:
//   node --import ./bench/llm/ts.mjs bench/llm/stream.ts [ITEMS=10000] [LATENCY_MS=50] [CONCURRENCY=64]
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import { type Verdict, type VerifyRequest, VerifyRequestSchema } from "../../src/gen/tinyv/v1/verifier_pb.js";
import { grpcClient, startTinyv } from "../../test/support/tinyv.js";
import { bareAdded } from "./bare.js";
import { percentile, spawnStandIn } from "./standin.js";

const items = Number(process.argv[2] ?? 10_000);
const latency = Number(process.argv[3] ?? 50);
const concurrency = Number(process.argv[4] ?? 64);

const standIn = await spawnStandIn(latency);
const server = await startTinyv([
  "--llm-url",
  standIn.url,
  "--llm-concurrency",
  String(concurrency),
  "--log-level",
  "warn",
]);
const client = grpcClient(server.grpcAddress);
type Duplex = grpc.ClientDuplexStream<VerifyRequest, Verdict>;
const open = () => (client as unknown as { VerifyStream: () => Duplex }).VerifyStream();

/** Gold i, answer i+1 (plus a tag so every phase's prompts are distinct): the rules reject it at once. */
const rejected = (id: string, gold: number, answer: string, question: string) =>
  create(VerifyRequestSchema, { id, question, groundTruth: String(gold), response: `so \\boxed{${answer}}` });

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
const cpuOf = (pid: number | undefined) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
};

/** Send everything at once on one stream; resolve with each verdict's arrival time. */
function blast(reqs: VerifyRequest[]): Promise<Map<string, [Verdict, number]>> {
  return new Promise((resolve, reject) => {
    const got = new Map<string, [Verdict, number]>();
    const call = open();
    call.on("data", (v: Verdict) => got.set(v.id, [v, performance.now()]));
    call.on("end", () => resolve(got));
    call.on("error", reject);
    for (const r of reqs) call.write(r);
    call.end();
  });
}

/** Keep `window` items in flight on one stream: a new one goes out as each verdict comes back. */
function windowed(reqs: VerifyRequest[], window: number): Promise<Map<string, [number, Verdict]>> {
  return new Promise((resolve, reject) => {
    const took = new Map<string, [number, Verdict]>();
    const sentAt = new Map<string, number>();
    const call = open();
    let next = 0;
    const send = () => {
      const r = reqs[next++];
      if (!r) return;
      sentAt.set(r.id, performance.now());
      call.write(r);
      if (next === reqs.length) call.end();
    };
    call.on("data", (v: Verdict) => {
      took.set(v.id, [performance.now() - (sentAt.get(v.id) as number), v]);
      send();
    });
    call.on("end", () => resolve(took));
    call.on("error", reject);
    for (let i = 0; i < window; i++) send();
  });
}

const ideal = concurrency / (latency / 1000);
console.log(
  `machine: ${(await import("node:os")).cpus().length} cores, node ${process.version}; stand-in latency ${latency} ms; --llm-concurrency ${concurrency}`,
);

// Warm up: rule workers, JIT, the keep-alive connections to the stand-in.
await blast(Array.from({ length: 2 * concurrency }, (_, i) => rejected(`w${i}`, i, `${i + 1}`, `warm ${i}`)));

// 1. Throughput: every item written at once.
await standIn.stats(true); // drop the warm-up's hold records
let calls0 = (await standIn.stats()).calls;
let cpu0 = cpuOf(server.proc.pid);
const standInCpu0 = cpuOf(standIn.pid);
const clientCpu0 = process.cpuUsage();
let t0 = performance.now();
const got = await blast(
  Array.from({ length: items }, (_, i) => rejected(`t${i}`, i, `${i + 1}`, `What is ${i}?`)),
);
const secs = (performance.now() - t0) / 1000;
const serverCpu = cpuOf(server.proc.pid) - cpu0;
const standInCpu = cpuOf(standIn.pid) - standInCpu0;
const clientUsage = process.cpuUsage(clientCpu0);
const clientCpu = (clientUsage.user + clientUsage.system) / 1e6;
const perItem = (s: number) => `${((s / items) * 1e6).toFixed(0)} us/item`;
const afterBlast = await standIn.stats(true);
const made = afterBlast.calls - calls0;
const held = (afterBlast.holds ?? []).map((h) => h.holdMs ?? Number.NaN).filter(Number.isFinite);
const meanHold = held.reduce((a, b) => a + b, 0) / Math.max(1, held.length);
const llmTrue = [...got.values()].filter(([v]) => v.llmOutcome === 3).length; // LLM_OUTCOME_FALSE: the stand-in says False
console.log(
  `throughput: ${items} rule-rejected items in ${secs.toFixed(2)} s = ${(items / secs).toFixed(0)} items/s; ` +
    `ideal ${ideal.toFixed(0)}/s; ${((100 * items) / secs / ideal).toFixed(1)}% of ideal; ` +
    `${made} LLM calls, ${llmTrue} verdicts from the LLM; CPU: server ${perItem(serverCpu)}, ` +
    `stand-in ${perItem(standInCpu)}, bench client ${perItem(clientCpu)}; ` +
    `all three ${((serverCpu + standInCpu + clientCpu) / secs).toFixed(2)} of 2 cores`,
);
console.log(
  `  the stand-in held each call ${meanHold.toFixed(1)} ms on average (set: ${latency} ms): ` +
    `${concurrency} in flight at that hold allow ${((concurrency * 1000) / meanHold).toFixed(0)}/s, ` +
    `and the run reached ${((100 * items) / secs / ((concurrency * 1000) / meanHold)).toFixed(1)}% of that`,
);

// 2. Time our side adds per call: a window of items in flight (at most the LLM concurrency, so nothing
//    queues for a slot); per item, the client's round trip less the time the stand-in held that call.
async function addedLatency(n: number, window: number, tag: string) {
  const reqs = Array.from({ length: n }, (_, i) =>
    rejected(`${tag}${i}`, i, `${i + 1}:${tag}`, `What is ${i}?`),
  );
  const start = performance.now();
  const took = await windowed(reqs, window);
  const rate = n / ((performance.now() - start) / 1000);
  const holds = new Map(
    ((await standIn.stats(true)).holds ?? []).map((h) => [h.answer, h.holdMs ?? Number.NaN]),
  );
  // Per item: [end to end, in the LLM verifier (llm_ms), rules (rules_ms)], each less what is not ours.
  const rows = reqs.flatMap((r, i) => {
    const hold = holds.get(`${i + 1}:${tag}`);
    const t = took.get(r.id);
    if (hold === undefined || !t) return [];
    const [ms, v] = t;
    return [[ms - hold, (v.timings?.llmMs ?? Number.NaN) - hold, v.timings?.rulesMs ?? Number.NaN]];
  });
  const col = (k: number) => rows.map((row) => row[k] as number).sort((a, b) => a - b);
  const show = (xs: number[]) =>
    `p50 ${percentile(xs, 50).toFixed(2)} ms, p90 ${percentile(xs, 90).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms`;
  console.log(`added latency, ${window} in flight (${rate.toFixed(0)} items/s, n=${rows.length}):`);
  console.log(`  end to end (client round trip - stand-in hold): ${show(col(0))}`);
  console.log(`  LLM verifier (verdict llm_ms - stand-in hold):   ${show(col(1))}`);
  console.log(`  rule verifier (verdict rules_ms):               ${show(col(2))}`);
  const floor = await bareAdded(standIn.url, n, window, async () => {
    const all = (await standIn.stats(true)).holds ?? [];
    return new Map(all.map((h) => [h.answer, h.holdMs ?? Number.NaN]));
  });
  console.log(`  floor: a bare socket client, same stand-in:    ${show(floor.sort((a, b) => a - b))}`);
}
await addedLatency(items, concurrency, "l");
// At a tenth of the load too, where queueing for the (shared) cores weighs less.
await addedLatency(Math.min(2_000, items), Math.max(1, Math.round(concurrency / 10)), "q");

// 3. GRPO: groups of 8 responses to one prompt, 3 distinct answers per group.
const groups = Math.floor(items / 8);
const pattern = [0, 0, 0, 1, 1, 1, 2, 2];
calls0 = (await standIn.stats()).calls;
cpu0 = cpuOf(server.proc.pid);
t0 = performance.now();
await blast(
  Array.from({ length: groups * 8 }, (_, k) => {
    const g = Math.floor(k / 8);
    return rejected(`g${k}`, g, `${g + 1 + (pattern[k % 8] as number)}`, `GRPO prompt ${g}`);
  }),
);
const secs3 = (performance.now() - t0) / 1000;
const grpoCalls = (await standIn.stats()).calls - calls0;
console.log(
  `grpo: ${groups} groups of 8 (3 distinct answers each) in ${secs3.toFixed(2)} s: ${grpoCalls} LLM calls, ` +
    `${(grpoCalls / groups).toFixed(2)} per group`,
);

client.close();
await server.stop();
standIn.stop();
