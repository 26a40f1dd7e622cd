// The LLM verifier alone (no gRPC, no rules) against the vLLM stand-in in its own process.
// Usage: node --import ./bench/llm/ts.mjs bench/llm/judge.ts [ITEMS=10000] [LATENCY_MS=50] [CONCURRENCY=64]
import { LlmJudge } from "../../src/llm/judge.js";
import { loadRegistry } from "../../src/llm/registry.js";
import { percentile, spawnStandIn } from "./standin.js";

const items = Number(process.argv[2] ?? 10_000);
const latency = Number(process.argv[3] ?? 50);
const concurrency = Number(process.argv[4] ?? 64);
const standIn = await spawnStandIn(latency);
const judge = new LlmJudge(
  {
    urls: [standIn.url],
    model: "",
    profile: "",
    registry: loadRegistry(),
    apiKey: "",
    concurrency,
    timeoutMs: 30_000,
    retries: 2,
    readyTimeoutMs: 10_000,
    cacheEntries: 100_000,
    cacheBytes: 64 << 20,
  },
  (level, msg) => console.error(`${level}: ${msg}`),
);
await judge.ready();
const q = (i: number) => ({ question: `What is ${i} + 1?`, groundTruth: `${i + 1}`, answer: `a${i}` });

// Warm the connections so the pool's sockets exist before timing.
await Promise.all(Array.from({ length: concurrency }, (_, i) => judge.judge(q(-1 - i))));

// 1. Throughput: every item at once; the judge queues past the concurrency limit.
const cpu0 = process.cpuUsage();
let t0 = performance.now();
await Promise.all(Array.from({ length: items }, (_, i) => judge.judge(q(i))));
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
console.log(`judge process CPU: ${((cpu.user + cpu.system) / items).toFixed(0)} us per call`);
const ideal = concurrency / (latency / 1000);
console.log(
  `throughput: ${items} calls in ${secs.toFixed(2)} s = ${(items / secs).toFixed(0)} calls/s; ideal ${ideal.toFixed(0)}/s; ${((100 * items) / secs / ideal).toFixed(1)}% of ideal`,
);

// 2. Added time per call: `concurrency` callers, each calling again when answered, so nothing queues;
//    per call, the time judge() took less the time the stand-in held the request.
const before = (await standIn.stats()).calls;
const took = new Map<string, number>();
let next = 0;
t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (next < items) {
      const i = items + next++;
      const s = performance.now();
      await judge.judge(q(i));
      took.set(`a${i}`, performance.now() - s);
    }
  }),
);
const secs2 = (performance.now() - t0) / 1000;
const holds = (await standIn.stats(true)).holds ?? [];
const added = holds
  .filter((h) => took.has(h.answer) && h.holdMs !== undefined)
  .map((h) => (took.get(h.answer) as number) - (h.holdMs as number))
  .sort((a, b) => a - b);
console.log(
  `windowed: ${items} calls in ${secs2.toFixed(2)} s = ${(items / secs2).toFixed(0)} calls/s; added per call p50 ${percentile(added, 50).toFixed(3)} ms, p99 ${percentile(added, 99).toFixed(3)} ms (n=${added.length}, stand-in calls ${(await standIn.stats()).calls - before})`,
);

// 3. GRPO groups: 8 responses per prompt, 3 distinct answers each.
const groups = items / 8;
const c0 = (await standIn.stats()).calls;
await Promise.all(
  Array.from({ length: groups }, (_, g) =>
    Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        judge.judge({ question: `group ${g}`, groundTruth: "7", answer: `g${g}-${k % 3}` }),
      ),
    ),
  ),
);
const calls = (await standIn.stats()).calls - c0;
console.log(
  `grpo: ${groups} groups of 8 (3 distinct answers): ${calls} calls, ${(calls / groups).toFixed(2)} per group`,
);
await judge.close();
standIn.stop();
