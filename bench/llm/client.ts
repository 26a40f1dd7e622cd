// Our HTTP/1.1 client (src/llm/http1.ts) against undici's Pool.request, side by side in one run, on
// the same stand-in (its own process, fixed latency): the same chat request, the same window of calls in
// flight, rounds alternating A B A B so drift and the neighbours' load fall on both.
// Per client: this process's CPU per call, calls/s, and the time added per call (round trip less the
// stand-in's hold), with the bare-socket floor (bench/llm/bare.ts) for reference.
// Build first (`npm run build`), then:
//   node --import ./bench/llm/ts.mjs bench/llm/client.ts [CALLS_PER_ROUND=5000] [LATENCY_MS=50] [IN_FLIGHT=64] [ROUNDS=3]
import os from "node:os";
import { Pool } from "undici";
import { Http1Client } from "../../src/llm/http1.js";
import { bareAdded } from "./bare.js";
import { percentile, spawnStandIn } from "./standin.js";

const calls = Number(process.argv[2] ?? 5_000);
const latency = Number(process.argv[3] ?? 50);
const window = Number(process.argv[4] ?? 64);
const rounds = Number(process.argv[5] ?? 3);

const standIn = await spawnStandIn(latency);
const base = new URL(`${standIn.url}/`);
const path = new URL("chat/completions", base).pathname;
const headers = {
  "content-type": "application/json",
  accept: "application/json",
  authorization: "Bearer EMPTY",
};
const body = (tag: string) =>
  JSON.stringify({
    model: "zhangchenxu/TinyV-1.5B",
    messages: [{ role: "user", content: `<question>q</question><model_answer>${tag}</model_answer>` }],
    temperature: 0,
    max_completion_tokens: 8,
    logprobs: true,
    top_logprobs: 5,
  });

type Send = (tag: string) => Promise<string>;
const ours = new Http1Client(base, window + 2);
const pool = new Pool(base.origin, { connections: window + 2, pipelining: 1 });
const clients: Record<string, Send> = {
  "ours (http1.ts)": async (tag) => {
    const r = await ours.request({ method: "POST", path, headers, body: body(tag), timeoutMs: 30_000 });
    return r.body.toString("utf8");
  },
  "undici Pool.request": async (tag) => {
    const r = await pool.request({ method: "POST", path, headers, body: body(tag), headersTimeout: 30_000 });
    return r.body.text();
  },
};

async function round(name: string, send: Send, tag: string) {
  let next = 0;
  const took = new Map<string, number>();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: window }, async () => {
      while (next < calls) {
        const t = `${tag}${next++}`;
        const s = performance.now();
        JSON.parse(await send(t));
        took.set(t, performance.now() - s);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const holds = new Map(
    ((await standIn.stats(true)).holds ?? []).map((h) => [h.answer, h.holdMs ?? Number.NaN]),
  );
  const added = [...took].flatMap(([t, ms]) => {
    const h = holds.get(t);
    return h === undefined ? [] : [ms - h];
  });
  added.sort((a, b) => a - b);
  return {
    name,
    cpuUs: (cpu.user + cpu.system) / calls,
    rate: calls / secs,
    p50: percentile(added, 50),
    p99: percentile(added, 99),
  };
}

console.log(
  `machine: ${os.cpus().length} cores, load ${os.loadavg()[0]?.toFixed(1)}, node ${process.version}; stand-in ${latency} ms; ${window} in flight; ${calls} calls a round, ${rounds} rounds each`,
);
// Warm both: JIT, and every keep-alive connection opened.
for (const [name, send] of Object.entries(clients)) await round(name, send, `warm-${name}-`);
await standIn.stats(true);

const rows: Awaited<ReturnType<typeof round>>[] = [];
for (let r = 0; r < rounds; r++) {
  const order = Object.entries(clients);
  for (const [name, send] of r % 2 ? order.reverse() : order) {
    const row = await round(name, send, `r${r}-${name}-`);
    rows.push(row);
    console.log(
      `  round ${r} ${row.name.padEnd(20)} CPU ${row.cpuUs.toFixed(1)} us/call, ${row.rate.toFixed(0)} calls/s, added p50 ${row.p50.toFixed(2)} ms, p99 ${row.p99.toFixed(2)} ms`,
    );
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
for (const name of Object.keys(clients)) {
  const mine = rows.filter((x) => x.name === name);
  console.log(
    `${name.padEnd(20)} median of ${mine.length}: CPU ${median(mine.map((x) => x.cpuUs)).toFixed(1)} us/call, ` +
      `${median(mine.map((x) => x.rate)).toFixed(0)} calls/s (ideal ${((window * 1000) / latency).toFixed(0)}), ` +
      `added p50 ${median(mine.map((x) => x.p50)).toFixed(2)} ms, p99 ${median(mine.map((x) => x.p99)).toFixed(2)} ms`,
  );
}
const floor = await bareAdded(standIn.url, calls, window, async () => {
  const all = (await standIn.stats(true)).holds ?? [];
  return new Map(all.map((h) => [h.answer, h.holdMs ?? Number.NaN]));
});
floor.sort((a, b) => a - b);
console.log(
  `floor, a bare socket client: added p50 ${percentile(floor, 50).toFixed(2)} ms, p99 ${percentile(floor, 99).toFixed(2)} ms`,
);
ours.close();
await pool.close();
standIn.stop();
