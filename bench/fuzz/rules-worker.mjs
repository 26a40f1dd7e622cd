// One worker of bench/fuzz/rules.mjs: runs whole chunks of generated cases (chunk i is fast-check's
// sample with seed BASE + i, so any case can be made again from its chunk and index) and posts a
// summary per chunk. Before each case it writes where it is to shared memory for the hang watchdog.
import { parentPort, workerData } from "node:worker_threads";
import "../llm/ts.mjs";

const fc = (await import("fast-check")).default;
const { ruleCase } = await import("../../test/fuzz/latex.ts");
const { checkRuleCase } = await import("../../test/fuzz/rule-check.ts");
const { bucketOf, slot } = await import("./buckets.mjs");

const where = new Float64Array(workerData.progress); // [chunk, index, started at (ms since epoch)]
const TOP = 5;

function runChunk({ chunk, from, size, seed }) {
  const cases = fc.sample(ruleCase, { seed: seed + chunk, numRuns: size });
  const summary = { chunk, n: 0, outcomes: {}, kinds: {}, broken: [], slowest: [], buckets: {} };
  for (let index = from; index < cases.length; index++) {
    const c = cases[index];
    where[0] = chunk;
    where[1] = index;
    where[2] = Date.now();
    const r = checkRuleCase(c);
    where[2] = 0;
    summary.n++;
    const outcome = r.result?.outcome ?? "threw";
    summary.outcomes[outcome] = (summary.outcomes[outcome] ?? 0) + 1;
    const k = slot(summary.kinds, c.kind, () => ({ n: 0, match: 0, maxMs: 0 }));
    k.n++;
    if (outcome === "match") k.match++;
    k.maxMs = Math.max(k.maxMs, r.ms);
    const ref = { ms: r.ms, chunk, index, kind: c.kind, chars: c.gold.length + c.response.length };
    if (r.broken) summary.broken.push({ ...ref, ...r.broken, case: c, outcome });
    summary.slowest.push(ref);
    if (summary.slowest.length > 4 * TOP)
      summary.slowest = summary.slowest.sort((a, b) => b.ms - a.ms).slice(0, TOP);
    const b = bucketOf(ref.chars);
    const bucket = slot(summary.buckets, b, () => ({ n: 0, top: [] }));
    bucket.n++;
    bucket.top.push(ref);
    if (bucket.top.length > 4 * TOP) bucket.top = bucket.top.sort((x, y) => y.ms - x.ms).slice(0, TOP);
  }
  summary.slowest = summary.slowest.sort((a, b) => b.ms - a.ms).slice(0, TOP);
  for (const b of Object.values(summary.buckets)) b.top = b.top.sort((x, y) => y.ms - x.ms).slice(0, TOP);
  return summary;
}

parentPort.on("message", (job) => parentPort.postMessage(runChunk(job)));
parentPort.postMessage({ ready: true });
