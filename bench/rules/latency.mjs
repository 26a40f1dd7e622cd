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

runOnce(); // warm-up: module init and JIT, as the Python side warms its imports
const { ms, accepted } = runOnce();
writeFileSync(
  out,
  JSON.stringify({ ids: rows.map((r) => r.id), ms, accepted, labels: rows.map((r) => !!r.label) }),
);
