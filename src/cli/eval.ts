import { once } from "node:events";
import { createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { create } from "@bufbuild/protobuf";
import { defaultMode } from "../config/load.js";
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
import { type ReportItem, renderReport } from "./report/page.js";

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

export interface EvalOptions {
  /** `--out`: one JSON line per input item. */
  out?: string;
  /** `--json`: the summary as one JSON object on stdout. */
  json: boolean;
  /** `--report`: one self-contained HTML page. */
  report?: string;
}

/**
 * Rule workers for an eval: one core left to this thread, which reads, dispatches and tallies (on two
 * cores a second worker only competes with it), and a worker per 500 items at most, since starting one
 * costs about what 500 items take to check (bench/RESULTS.md, "CLI start-up").
 */
export function evalWorkers(configured: number, items: number, cores = availableParallelism()): number {
  return Math.max(1, Math.min(configured, cores - 1, Math.ceil(items / 500)));
}

/** `tinyv eval`: recall, false positives and latency per file and in total. */
export async function evaluate(config: Config, files: string[], opts: EvalOptions): Promise<number> {
  const log = createLog(config.logLevel);
  let skipped = 0;
  const items = files.flatMap((f) =>
    readLabelled(f, readFileSync(f, "utf8"), (msg) => {
      skipped++;
      process.stderr.write(`${msg}\n`);
    }),
  );
  const engine = await createEngine({ ...config, workers: evalWorkers(config.workers, items.length) }, log);
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

  const rows = items.map((it, i) => resultRow(it, verdicts[i] as Verdict));
  if (opts.out) await writeRows(opts.out, rows);
  const scored = (file?: string): Scored[] =>
    rows
      .filter((_, i) => file === undefined || items[i]?.file === file)
      .map((r) => ({
        label: r.label,
        correct: r.correct,
        ms: r.ms,
        ruleOutcome: r.rule_outcome,
        llmOutcome: r.llm_outcome,
      }));
  const perFile = files.map((f) => ({ file: f, ...summarize(scored(f)) }));
  const total = summarize(scored());
  const errors = verdicts.filter((v) => v.error).length;
  if (opts.report) {
    const page = renderReport({
      generatedAt: new Date().toISOString(),
      mode: defaultMode(config),
      files: perFile,
      total,
      skipped,
      errors,
      items: items.map((it, i) => reportItem(it, rows[i] as ResultRow)),
    });
    writeFileSync(opts.report, page);
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ files: perFile, total, skipped, errors })}\n`);
  } else {
    for (const s of perFile) process.stdout.write(`${formatSummary(s.file, s)}\n`);
    if (files.length > 1) process.stdout.write(`${formatSummary("total", total)}\n`);
    if (skipped || errors) process.stdout.write(`skipped lines: ${skipped}, items with errors: ${errors}\n`);
    if (opts.report) process.stdout.write(`report: ${opts.report}\n`);
  }
  return skipped > 0 ? 1 : 0;
}

type ResultRow = ReturnType<typeof resultRow>;

/** One `--out` line: the verdict's fields in snake_case, enum names without their prefix. */
function resultRow(it: Item, v: Verdict) {
  return {
    id: it.id,
    label: it.label,
    correct: v.correct,
    reward: v.reward,
    extracted_answer: v.extractedAnswer,
    decided_by: DecidedBy[v.decidedBy] as string,
    rule_outcome: RuleOutcome[v.ruleOutcome] as string,
    llm_outcome: LlmOutcome[v.llmOutcome] as string,
    ...(v.pTrue !== undefined && { p_true: v.pTrue }),
    ...(v.llmDetail && { llm_detail: v.llmDetail }),
    ...(v.error && { error: v.error.message }),
    ms: (v.timings?.rulesMs ?? 0) + (v.timings?.llmMs ?? 0),
  };
}

function reportItem(it: Item, r: ResultRow): ReportItem {
  return {
    file: it.file,
    line: it.line,
    id: it.id,
    label: it.label,
    correct: r.correct,
    gold: it.groundTruth,
    response: it.response,
    extracted: r.extracted_answer,
    ruleOutcome: r.rule_outcome,
    llmOutcome: r.llm_outcome,
    decidedBy: r.decided_by,
    ms: r.ms,
    detail: r.error ?? r.llm_detail,
  };
}

async function writeRows(path: string, rows: object[]): Promise<void> {
  const out = createWriteStream(path);
  for (const row of rows) {
    if (!out.write(`${JSON.stringify(row)}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}
