import { once } from "node:events";
import { createWriteStream, readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import type { Config } from "../config/schema.js";
import {
  DecidedBy,
  LlmOutcome,
  RuleOutcome,
  type Verdict,
  VerifyRequestSchema,
} from "../gen/tinyv/v1/verifier_pb.js";
import { createLog } from "../log.js";
import { createEngine } from "../server/engine.js";
import { formatSummary, type Scored, summarize } from "./eval-stats.js";
import { Progress } from "./progress.js";

interface Item {
  file: string;
  line: number;
  id: string;
  question: string;
  groundTruth: string;
  response: string;
  label: boolean;
}

/** Parse a labelled JSONL file; a bad line is reported with its number and skipped, never dropped silently. */
export function readLabelled(file: string, text: string, warn: (msg: string) => void): Item[] {
  const items: Item[] = [];
  for (const [i, raw] of text.split("\n").entries()) {
    const line = i + 1;
    if (raw.trim() === "") continue;
    let row: Record<string, unknown>;
    try {
      row = JSON.parse(raw);
    } catch (err) {
      warn(`${file}:${line}: skipped: not JSON (${(err as Error).message})`);
      continue;
    }
    const bad = ["ground_truth", "response"].find((k) => typeof row[k] !== "string");
    const why = bad
      ? `"${bad}" must be a string`
      : typeof row.label !== "boolean"
        ? `"label" must be true or false`
        : "";
    if (why) {
      warn(`${file}:${line}: skipped: ${why}`);
      continue;
    }
    items.push({
      file,
      line,
      id: typeof row.id === "string" || typeof row.id === "number" ? String(row.id) : `${file}:${line}`,
      question: typeof row.question === "string" ? row.question : "",
      groundTruth: row.ground_truth as string,
      response: row.response as string,
      label: row.label as boolean,
    });
  }
  return items;
}

/** `tinyv eval`: recall, false positives and latency per file and in total. */
export async function evaluate(
  config: Config,
  files: string[],
  outPath: string | undefined,
  asJson: boolean,
): Promise<number> {
  const log = createLog(config.logLevel);
  let skipped = 0;
  const items = files.flatMap((f) =>
    readLabelled(f, readFileSync(f, "utf8"), (msg) => {
      skipped++;
      process.stderr.write(`${msg}\n`);
    }),
  );
  const engine = await createEngine(config, log);
  const progress = new Progress(items.length, process.stderr);
  const verdicts: Verdict[] = new Array(items.length);
  try {
    let next = 0;
    // Bounded concurrency keeps memory flat on large files while filling the pool and the LLM.
    const lane = async () => {
      for (let i = next++; i < items.length; i = next++) {
        const it = items[i] as Item;
        const req = create(VerifyRequestSchema, {
          id: it.id,
          question: it.question,
          groundTruth: it.groundTruth,
          response: it.response,
        });
        verdicts[i] = await engine.hybrid.verify(req);
        progress.tick();
      }
    };
    await Promise.all(Array.from({ length: Math.min(256, items.length) }, lane));
  } finally {
    progress.done();
    await engine.close();
  }

  if (outPath) await writeResults(outPath, items, verdicts);
  const scored = (pick: (it: Item) => boolean): Scored[] =>
    items.flatMap((it, i) => {
      const v = verdicts[i] as Verdict;
      return pick(it)
        ? [{ label: it.label, correct: v.correct, ms: (v.timings?.rulesMs ?? 0) + (v.timings?.llmMs ?? 0) }]
        : [];
    });
  const perFile = files.map((f) => ({ file: f, ...summarize(scored((it) => it.file === f)) }));
  const total = summarize(scored(() => true));
  const errors = verdicts.filter((v) => v.error).length;
  if (asJson) {
    process.stdout.write(`${JSON.stringify({ files: perFile, total, skipped, errors })}\n`);
  } else {
    for (const s of perFile) process.stdout.write(`${formatSummary(s.file, s)}\n`);
    if (files.length > 1) process.stdout.write(`${formatSummary("total", total)}\n`);
    if (skipped || errors) process.stdout.write(`skipped lines: ${skipped}, items with errors: ${errors}\n`);
  }
  return skipped > 0 ? 1 : 0;
}

async function writeResults(path: string, items: Item[], verdicts: Verdict[]): Promise<void> {
  const out = createWriteStream(path);
  for (const [i, it] of items.entries()) {
    const v = verdicts[i] as Verdict;
    const row = {
      id: it.id,
      label: it.label,
      correct: v.correct,
      reward: v.reward,
      extracted_answer: v.extractedAnswer,
      decided_by: DecidedBy[v.decidedBy],
      rule_outcome: RuleOutcome[v.ruleOutcome],
      llm_outcome: LlmOutcome[v.llmOutcome],
      ...(v.pTrue !== undefined && { p_true: v.pTrue }),
      ...(v.error && { error: v.error.message }),
    };
    if (!out.write(`${JSON.stringify(row)}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}
