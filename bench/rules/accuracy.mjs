// Accuracy of the rule verifier on a JSONL file (id, ground_truth, response, label), before the CLI exists.
// Usage: node bench/rules/accuracy.mjs [file] [--verbose]   (after `npm run build`)
import { readFileSync } from "node:fs";
import { verifyAnswer } from "../../dist/rules/index.js";

const file = process.argv[2] ?? "../shared/data/hardverify-math-dev.jsonl";
const verbose = process.argv.includes("--verbose");
const rows = readFileSync(file, "utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l));
let pos = 0;
let tp = 0;
let neg = 0;
const fps = [];
for (const r of rows) {
  let res;
  try {
    res = verifyAnswer(r.ground_truth, r.response, { budgetMs: 1000 });
  } catch (e) {
    console.log(`${r.id}\tTHREW\t${e.stack}`);
    process.exitCode = 1;
    continue;
  }
  const ok = res.outcome === "match";
  if (r.label) {
    pos++;
    if (ok) tp++;
  } else {
    neg++;
    if (ok) fps.push(r.id);
  }
  if (verbose && ok !== r.label)
    console.log(`${r.id}\t${res.outcome}\t${res.detail ?? ""}\t${r.ground_truth} || ${r.response}`);
}
console.log(`accepted correct: ${tp}/${pos} (${((100 * tp) / pos).toFixed(1)}%)`);
console.log(`accepted wrong: ${fps.length}/${neg} ${fps.join(" ")}`);
