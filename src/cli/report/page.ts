/** `tinyv eval --report`: the whole page from the eval's data, as one self-contained HTML string. */
import { createHash } from "node:crypto";
import { pct, type Summary } from "../eval-stats.js";
import { SCRIPT, STYLE } from "./assets.js";
import { histogram, histogramSvg } from "./histogram.js";
import { type Html, html, trusted } from "./html.js";

export interface ReportItem {
  file: string;
  line: number;
  id: string;
  label: boolean;
  correct: boolean;
  gold: string;
  response: string;
  extracted: string;
  ruleOutcome: string;
  llmOutcome: string;
  decidedBy: string;
  /** Verify time (rules + LLM), as in the summary's median and p99. */
  ms: number;
  /** Why, when the LLM failed or the item had an error. */
  detail?: string;
}

export interface ReportInput {
  /** When the eval ran (ISO 8601): given, so the page is a function of its input. */
  generatedAt: string;
  mode: string;
  files: (Summary & { file: string })[];
  total: Summary;
  skipped: number;
  errors: number;
  items: ReportItem[];
}

const RULE_ORDER = ["MATCH", "MISMATCH", "NO_ANSWER", "UNPARSEABLE", "OVER_BUDGET"];
const LLM_ORDER = ["NOT_ASKED", "TRUE", "FALSE", "UNPARSEABLE", "ERROR", "TIMEOUT", "NOT_CONFIGURED"];
/** Longest gold, answer or response excerpt shown in the disagreement table. */
const CLIP = 600;

const sha256 = (s: string) => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;
const ms3 = (ms: number) => `${ms.toFixed(3)} ms`;
const ratio = (a: number, b: number) => `${a} / ${b} (${pct(a, b)})`;

/** The head of a long text, saying how much was cut. */
export function clipHead(s: string, n = CLIP): string {
  return s.length <= n ? s : `${s.slice(0, n)}… (${s.length - n} more characters)`;
}

/** The tail of a long text (a response's answer is at its end), saying how much was cut. */
export function clipTail(s: string, n = CLIP): string {
  return s.length <= n ? s : `(${s.length - n} characters before) …${s.slice(-n)}`;
}

export function renderReport(r: ReportInput): string {
  // Only this page's own style and script may run; nothing may load, so no request leaves the page.
  const csp = `default-src 'none'; style-src ${sha256(STYLE)}; script-src ${sha256(SCRIPT)}; base-uri 'none'; form-action 'none'`;
  const several = r.files.length > 1;
  const rows = several ? [...r.files, { ...r.total, file: "total" }] : r.files;
  const wrong = r.items.filter((it) => it.correct !== it.label);
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tinyv eval report</title>
<style>${trusted(STYLE)}</style>
</head>
<body>
<h1>tinyv eval report</h1>
<p class="meta">generated ${r.generatedAt} · mode ${r.mode} · ${r.files.length} file${several ? "s" : ""} · ${r.total.n} items · skipped lines ${r.skipped} · items with errors ${r.errors}</p>

<h2>Accuracy and recall</h2>
<table id="summary">
<thead><tr><th>file</th><th class="num">items</th><th class="num">accuracy</th><th class="num">correct accepted (recall)</th><th class="num">wrong accepted (false positives)</th><th class="num">median</th><th class="num">p99</th></tr></thead>
<tbody>${rows.map(
    (s) =>
      html`<tr class="${s.file === "total" && several ? "total" : ""}"><td>${s.file}</td><td class="num">${s.n}</td><td class="num">${pct(s.accuracy * s.n, s.n)}</td><td class="num">${ratio(s.acceptedCorrect, s.labelledCorrect)}</td><td class="num">${ratio(s.acceptedWrong, s.labelledWrong)}</td><td class="num">${ms3(s.medianMs)}</td><td class="num">${ms3(s.p99Ms)}</td></tr>`,
  )}</tbody>
</table>

<h2>Confusion counts</h2>
<table id="confusion">
<thead><tr><th>file</th><th class="num">correct, accepted</th><th class="num">correct, rejected (false negatives)</th><th class="num">wrong, accepted (false positives)</th><th class="num">wrong, rejected</th></tr></thead>
<tbody>${rows.map(
    (s) =>
      html`<tr class="${s.file === "total" && several ? "total" : ""}"><td>${s.file}</td><td class="num">${s.acceptedCorrect}</td><td class="num">${s.labelledCorrect - s.acceptedCorrect}</td><td class="num">${s.acceptedWrong}</td><td class="num">${s.labelledWrong - s.acceptedWrong}</td></tr>`,
  )}</tbody>
</table>

<h2>Latency</h2>
${r.files.map((s) => {
  const ms = r.items.filter((it) => it.file === s.file).map((it) => it.ms);
  return html`<figure class="latency" data-file="${s.file}"><h3>${s.file}</h3>${histogramSvg(histogram(ms), `per-item verify time, ${s.file}`)}<figcaption class="meta">${s.n} items · median ${ms3(s.medianMs)} · p99 ${ms3(s.p99Ms)}</figcaption></figure>`;
})}

<h2>Rule outcomes by file</h2>
${outcomeTable("rule-outcomes", rows, (s) => s.ruleOutcomes, RULE_ORDER)}
<h2>LLM outcomes by file</h2>
${outcomeTable("llm-outcomes", rows, (s) => s.llmOutcomes, LLM_ORDER)}

<h2>Disagreements (<span id="shown">${wrong.length}</span> of ${wrong.length})</h2>
<p class="meta">Every item whose verdict differs from its label: a false negative is a correct answer rejected, a false positive a wrong answer accepted.</p>
${wrong.length === 0 ? html`<p id="no-disagreements">No disagreements.</p>` : disagreements(wrong, several)}
<script>${trusted(SCRIPT)}</script>
</body>
</html>
`;
  return page.text;
}

function outcomeTable(
  id: string,
  rows: (Summary & { file: string })[],
  pick: (s: Summary) => Record<string, number>,
  order: string[],
): Html {
  const seen = new Set(rows.flatMap((s) => Object.keys(pick(s))));
  const cols = [...order.filter((o) => seen.has(o)), ...[...seen].filter((o) => !order.includes(o)).sort()];
  return html`<table id="${id}">
<thead><tr><th>file</th>${cols.map((c) => html`<th class="num">${c}</th>`)}</tr></thead>
<tbody>${rows.map(
    (s) => html`<tr><td>${s.file}</td>${cols.map((c) => html`<td class="num">${pick(s)[c] ?? 0}</td>`)}</tr>`,
  )}</tbody>
</table>`;
}

function disagreements(items: ReportItem[], several: boolean): Html {
  return html`<div class="filters"><label>find <input id="filter-text" type="search"></label>
<label>kind <select id="filter-kind"><option value="">all</option><option value="fn">false negatives</option><option value="fp">false positives</option></select></label></div>
<table id="disagreements">
<thead><tr><th>${several ? "file:line" : "line"}</th><th>id</th><th>label</th><th>verdict</th><th>gold</th><th>extracted answer</th><th>outcome</th><th class="num">time</th><th>response</th></tr></thead>
<tbody>${items.map((it) => {
    const kind = it.label ? "fn" : "fp";
    return html`<tr data-kind="${kind}"><td class="num">${several ? `${it.file}:${it.line}` : it.line}</td><td>${it.id}</td><td>${it.label ? "correct" : "wrong"}</td><td class="kind-${kind}">${it.correct ? "accepted" : "rejected"} (${it.label ? "false negative" : "false positive"})</td><td class="text">${clipHead(it.gold)}</td><td class="text">${clipHead(it.extracted)}</td><td>rules ${it.ruleOutcome} · LLM ${it.llmOutcome} · by ${it.decidedBy}${it.detail ? html`<br><span class="meta">${clipHead(it.detail)}</span>` : ""}</td><td class="num">${ms3(it.ms)}</td><td class="text"><details><summary>${it.response.length} chars</summary>${clipTail(it.response)}</details></td></tr>`;
  })}</tbody>
</table>`;
}
