// Writes N labelled items for the start-up bench: the HardVerify dev set then the GSM8K dev set, repeated
// until N (ids suffixed #k so each is its own item). Usage: node bench/cli/items.mjs N OUT.jsonl [DATA_DIR]
import { readFileSync, writeFileSync } from "node:fs";

const [n, out, data = "../shared/data"] = process.argv.slice(2);
const rows = ["hardverify-math-dev.jsonl", "gsm8k-solutions-dev.jsonl"].flatMap((f) =>
  readFileSync(`${data}/${f}`, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l)),
);
const items = Array.from({ length: Number(n) }, (_, i) => {
  const r = rows[i % rows.length];
  return JSON.stringify({ ...r, id: `${r.id}#${Math.floor(i / rows.length)}` });
});
writeFileSync(out, `${items.join("\n")}\n`);
