// Fuzzes the rule verifier with N generated inputs (test/fuzz/latex.ts: grammar-built LaTeX, near-miss
// golds, empty and garbled answers, soup, random strings, mutated responses, giant and deep inputs)
// and prints crashes, hangs, false matches, the worst time per item and the worst time per input size.
//
//   node bench/fuzz/rules.mjs [N=1000000] [--workers 2] [--seed 1] [--chunk 500] [--out bench/out/fuzz]
//
// Each case runs in-process in a worker thread with the server's defaults (budget 2,000 ms, relTol
// 1e-4). A case over budget + 250 ms (where the pool's watchdog would kill the worker) is run twice
// more and counts as slow only if it stays over; a case that does not finish within HANG_MS is a hang
// (its worker is killed and replaced). The slowest cases are timed again at the end, alone, so the
// worst times reported are the verifier's, not the shared machine's. Broken cases are saved as JSON
// under --out, ready for test/fuzz/corpus/.
import { mkdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import "../llm/ts.mjs";
import { BUCKETS, slot } from "./buckets.mjs";

const fc = (await import("fast-check")).default;
const { ruleCase } = await import("../../test/fuzz/latex.ts");
const { BUDGET_MS, describeCase, remeasure } = await import("../../test/fuzz/rule-check.ts");

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const WORKERS = Number(flag("workers", 2));
const SEED = Number(flag("seed", 1));
const CHUNK = Number(flag("chunk", 500));
const OUT = flag("out", "bench/out/fuzz");
/** Far past budget + grace: a case still running then is stuck. */
const HANG_MS = 15_000;
const REMEASURE_TOP = 30;

const chunks = Math.ceil(N / CHUNK);
const sizeOf = (chunk) => Math.min(CHUNK, N - chunk * CHUNK);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

console.log(`rule verifier fuzz: ${N} inputs, ${WORKERS} workers, seed ${SEED}, chunks of ${CHUNK}`);
console.log(`load average at start: ${load()}`);

const total = { n: 0, outcomes: {}, kinds: {}, broken: [], hangs: [], slowest: [], buckets: {} };
const started = performance.now();
let next = 0;
let lastReport = started;

function merge(s) {
  total.n += s.n;
  for (const [k, v] of Object.entries(s.outcomes)) total.outcomes[k] = (total.outcomes[k] ?? 0) + v;
  for (const [k, v] of Object.entries(s.kinds)) {
    const t = slot(total.kinds, k, () => ({ n: 0, match: 0, maxMs: 0 }));
    t.n += v.n;
    t.match += v.match;
    t.maxMs = Math.max(t.maxMs, v.maxMs);
  }
  total.broken.push(...s.broken);
  total.slowest = [...total.slowest, ...s.slowest].sort((a, b) => b.ms - a.ms).slice(0, REMEASURE_TOP);
  for (const [b, v] of Object.entries(s.buckets)) {
    const t = slot(total.buckets, b, () => ({ n: 0, top: [] }));
    t.n += v.n;
    t.top = [...t.top, ...v.top].sort((x, y) => y.ms - x.ms).slice(0, 5);
  }
  const now = performance.now();
  if (now - lastReport > 15_000) {
    lastReport = now;
    const rate = total.n / ((now - started) / 1000);
    console.log(
      `  ${total.n}/${N} (${rate.toFixed(0)}/s), broken ${total.broken.length}, hangs ${total.hangs.length}, ` +
        `worst ${total.slowest[0]?.ms.toFixed(1)} ms, load ${load()}`,
    );
  }
}

/** One worker lane: takes chunks until none are left; replaced (resuming after the stuck case) on a hang. */
function lane(resume) {
  return new Promise((resolve) => {
    const progress = new SharedArrayBuffer(24);
    const where = new Float64Array(progress);
    const w = new Worker(new URL("./rules-worker.mjs", import.meta.url), { workerData: { progress } });
    let current;
    const give = () => {
      if (resume) {
        current = resume;
        resume = undefined;
      } else if (next < chunks) {
        current = { chunk: next, from: 0, size: sizeOf(next), seed: SEED };
        next++;
      } else {
        clearInterval(watch);
        void w.terminate();
        return resolve(undefined);
      }
      w.postMessage(current);
    };
    const watch = setInterval(() => {
      if (where[2] > 0 && Date.now() - where[2] > HANG_MS) {
        clearInterval(watch);
        const hang = { chunk: where[0], index: where[1], ms: Date.now() - where[2] };
        total.hangs.push(hang);
        console.log(`  HANG: chunk ${hang.chunk} case ${hang.index} ran ${hang.ms} ms; worker replaced`);
        void w.terminate();
        const after = { ...current, from: hang.index + 1 };
        resolve(after.from < after.size ? after : { ...current, from: after.size });
      }
    }, 1000);
    w.on("message", (m) => {
      if (m.ready) return give();
      merge(m);
      give();
    });
    w.on("error", (err) => {
      clearInterval(watch);
      console.log(`  worker error: ${err.message}`);
      resolve(undefined);
    });
  });
}

async function runLane() {
  let resume;
  do resume = await lane(resume);
  while (resume);
}

await Promise.all(Array.from({ length: WORKERS }, runLane));
const seconds = (performance.now() - started) / 1000;

const caseAt = (ref) => fc.sample(ruleCase, { seed: SEED + ref.chunk, numRuns: ref.index + 1 })[ref.index];

// The slowest cases again, alone: fastest of three runs.
const again = new Map();
const retime = (ref) => {
  const key = `${ref.chunk}:${ref.index}`;
  if (!again.has(key)) again.set(key, remeasure(caseAt(ref), 3));
  return again.get(key);
};
const worstAgain = total.slowest
  .map((ref) => ({ ...ref, again: retime(ref) }))
  .sort((a, b) => b.again - a.again);

mkdirSync(OUT, { recursive: true });
for (const [i, b] of total.broken.entries()) {
  writeFileSync(join(OUT, `broken-${i}-${b.what}.json`), `${JSON.stringify(b.case)}\n`);
}
for (const [i, h] of total.hangs.entries()) {
  writeFileSync(join(OUT, `hang-${i}.json`), `${JSON.stringify(caseAt(h))}\n`);
}

const pad = (s, n) => String(s).padEnd(n);
console.log(
  `\n${total.n} inputs in ${seconds.toFixed(0)} s (${(total.n / seconds).toFixed(0)}/s); load average at end: ${load()}`,
);
const count = (what) => total.broken.filter((b) => b.what === what).length;
console.log(`crashes (threw): ${count("threw")}`);
console.log(`hangs (no result within ${HANG_MS} ms): ${total.hangs.length}`);
console.log(`slow (over ${BUDGET_MS} + 250 ms three times): ${count("slow")}`);
console.log(`false matches (empty, garbled or near-miss answer accepted): ${count("false-match")}`);
console.log(`outcomes: ${JSON.stringify(total.outcomes)}`);
const top = worstAgain[0];
console.log(
  `worst time per item: ${total.slowest[0]?.ms.toFixed(1)} ms first run; timed again alone: ${top?.again.toFixed(1)} ms (${describeCase(caseAt(top), 80)})`,
);
console.log("\nworst time per input size (gold + response chars):");
console.log(
  `${pad("size", 10)}${pad("inputs", 10)}${pad("worst ms", 10)}${pad("again ms", 10)}slowest case (timed again)`,
);
for (const [, name] of BUCKETS) {
  const b = total.buckets[name];
  if (!b) continue;
  const retimed = b.top.map((ref) => ({ ...ref, again: retime(ref) })).sort((x, y) => y.again - x.again);
  const w = retimed[0];
  console.log(
    `${pad(name, 10)}${pad(b.n, 10)}${pad(b.top[0].ms.toFixed(1), 10)}${pad(w.again.toFixed(1), 10)}${w.kind}, ${w.chars} chars`,
  );
}
console.log("\nby kind (inputs, matched, worst first-run ms):");
for (const [k, v] of Object.entries(total.kinds).sort()) {
  console.log(`  ${pad(k, 24)}${pad(v.n, 9)}${pad(v.match, 9)}${v.maxMs.toFixed(1)}`);
}
for (const b of total.broken.slice(0, 20))
  console.log(`BROKEN ${b.what}: ${b.detail}; ${describeCase(b.case)}`);
if (total.broken.length || total.hangs.length) console.log(`saved under ${OUT}/`);
process.exitCode = total.broken.length || total.hangs.length ? 1 : 0;
