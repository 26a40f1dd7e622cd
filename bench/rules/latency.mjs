// Our rule verifier on the same items as mathverify.py: per-item latency and accuracy.
// Usage: node bench/rules/latency.mjs DATA.jsonl OUT.json   (after `npm run build`)
import { readFileSync, writeFileSync } from "node:fs";
import { verifyAnswer } from "../../dist/rules/index.js";

const [path, out] = process.argv.slice(2);
const rows = readFileSync(path, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l));
const opts = { budgetMs: 1000 };

function runOnce() {
  const ms = [];
  const accepted = [];
  for (const r of rows) {
    const t0 = performance.now();
    const res = verifyAnswer(r.ground_truth, `\\boxed{${r.response}}`, opts);
    ms.push(performance.now() - t0);
    accepted.push(res.outcome === "match");
  }
  return { ms, accepted };
}

const passes = Number(process.env.PASSES ?? 3);
runOnce(); // warm-up: module init and JIT, as the Python side warms its imports
// Per-item median over several passes: the machine is shared, and one GC pause is not the verifier.
const runs = Array.from({ length: passes }, runOnce);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = rows.map((_, i) => median(runs.map((r) => r.ms[i])));
const { accepted } = runs[0];
writeFileSync(
  out,
  JSON.stringify({ ids: rows.map((r) => r.id), ms, accepted, labels: rows.map((r) => !!r.label) }),
);
