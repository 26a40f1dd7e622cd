/**
 * Response families, side by side with Math-Verify: the red team's wrong and right forms over the
 * dev golds (test/rules/redteam.ts) and the response formats and notations pinned in
 * test/rules/integrity.test.ts, written as one labelled JSONL file for `tinyv eval` and
 * bench/rules/families.py. These are our own families, not a measuring set: they say where the two
 * verifiers differ, not how either scores on data neither has seen.
 *   node --import ./bench/llm/ts.mjs bench/rules/families.ts OUT.jsonl
 */
import { writeFileSync } from "node:fs";
import { devGolds, rightForms, wrongForms } from "../../test/rules/redteam.js";

const out = process.argv[2] ?? "bench/out/rules/families.jsonl";
const rows: { id: string; family: string; ground_truth: string; response: string; label: boolean }[] = [];
let n = 0;
for (const gold of devGolds()) {
  if (gold.replace(/^\$+|\$+$/g, "").includes("$")) continue;
  for (const p of rightForms(gold))
    rows.push({
      id: `r${n++}`,
      family: "right forms",
      ground_truth: gold,
      response: p.response,
      label: true,
    });
  for (const p of wrongForms(gold))
    rows.push({
      id: `w${n++}`,
      family: `wrong: ${p.family}`,
      ground_truth: gold,
      response: p.response,
      label: false,
    });
}
writeFileSync(out, `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
console.log(`${rows.length} rows -> ${out}`);
