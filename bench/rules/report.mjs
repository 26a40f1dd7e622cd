// Prints the side-by-side table from the two JSON files written by latency.mjs and mathverify.py.
import { readFileSync } from "node:fs";

const [oursPath, mvPath] = process.argv.slice(2);
const load = (p) => JSON.parse(readFileSync(p, "utf8"));
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const stats = (d) => {
  let tp = 0;
  let pos = 0;
  const fp = [];
  d.accepted.forEach((ok, i) => {
    if (d.labels[i]) {
      pos++;
      if (ok) tp++;
    } else if (ok) fp.push(d.ids[i]);
  });
  return { median: quantile(d.ms, 0.5), p90: quantile(d.ms, 0.9), p99: quantile(d.ms, 0.99), tp, pos, fp };
};
const ours = stats(load(oursPath));
const mv = stats(load(mvPath));
const f = (x) => x.toFixed(3);
console.log("| verifier | accepted correct | accepted wrong | median ms | p90 ms | p99 ms |");
console.log("|---|---|---|---|---|---|");
for (const [name, s] of [
  ["tinyv rules", ours],
  ["Math-Verify 0.8.0", mv],
]) {
  console.log(
    `| ${name} | ${s.tp}/${s.pos} | ${s.fp.length} (${s.fp.join(", ") || "none"}) | ${f(s.median)} | ${f(s.p90)} | ${f(s.p99)} |`,
  );
}
console.log(
  `\nratio (Math-Verify / ours): median ${(mv.median / ours.median).toFixed(1)}x, p99 ${(mv.p99 / ours.p99).toFixed(1)}x`,
);
