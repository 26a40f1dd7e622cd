/**
 * `tinyv eval --report`: the page as a person sees it in a real browser (Debian's chromium): the figures
 * in its visible text are the eval's own JSON summary, the disagreement table has exactly the items
 * whose verdict differs from their label, each histogram is drawn, hostile text stays text, and the
 * page makes no request of any kind.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Summary } from "../../src/cli/eval-stats.js";
import { type Browser, launchChromium } from "../support/chromium.js";
import { readJsonl, runCli } from "../support/run-cli.js";

const HOSTILE_RESPONSE = "so \\boxed{</script><script>window.pwned=1</script>}";
const HOSTILE_GOLD = '<img src=x onerror="window.pwned=2">';
const HOSTILE_ID = '<b id="injected">x</b>';

const setA = [
  { id: "a1", ground_truth: "2", response: "\\boxed{2}", label: true },
  { id: "a2", ground_truth: "\\frac12", response: "The answer is \\boxed{0.5}.", label: true },
  { id: "a3", ground_truth: "7", response: "\\boxed{8}", label: true }, // rejected: a false negative
  { id: "a4", ground_truth: "3", response: "\\boxed{3}", label: false }, // accepted: a false positive
  { id: HOSTILE_ID, ground_truth: HOSTILE_GOLD, response: HOSTILE_RESPONSE, label: true },
  { id: "a6", ground_truth: "5", response: "I could not say.", label: false },
];
const setB = [
  { id: "b1", ground_truth: "10", response: "\\boxed{10}", label: true },
  { id: "b2", ground_truth: "4", response: "\\boxed{5}", label: false },
  { id: "b3", ground_truth: "(1,2)", response: "\\boxed{(2,1)}", label: false },
  { id: "b4", ground_truth: "0.25", response: "so it is \\boxed{\\frac{1}{4}}", label: true },
];

const jsonl = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`;
const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(1)}%` : "-");
const ms3 = (ms: number) => `${ms.toFixed(3)} ms`;

type Named = Summary & { file: string };
interface OutRow {
  id: string;
  label: boolean;
  correct: boolean;
  extracted_answer: string;
  rule_outcome: string;
  llm_outcome: string;
}

// What a person sees: the rendered text (hidden elements and collapsed details left out), not textContent.
// biome-ignore lint/performance/useDomNodeTextContent: the visible text is what is under test
const seen = (l: Locator) => l.innerText();

const cells = async (page: Page, selector: string) =>
  (await page.locator(selector).allInnerTexts()).map((row) => row.split("\t").map((c) => c.trim()));

describe("tinyv eval --report", () => {
  let browser: Browser;
  let page: Page;
  let summary: { files: Named[]; total: Summary };
  let out: OutRow[];
  let fileA: string;
  let fileB: string;
  const requests: string[] = [];
  const violations: string[] = [];

  beforeAll(async () => {
    // A folder name with markup in it: file names are data too.
    const dir = mkdtempSync(join(tmpdir(), "tinyv-report-<i>&-"));
    fileA = join(dir, "a.jsonl");
    fileB = join(dir, "b.jsonl");
    writeFileSync(fileA, jsonl(setA));
    writeFileSync(fileB, jsonl(setB));
    const report = join(dir, "report.html");
    const outFile = join(dir, "out.jsonl");
    const res = await runCli([
      "eval",
      fileA,
      fileB,
      "--mode",
      "rules_only",
      "--json",
      "--out",
      outFile,
      "--report",
      report,
    ]);
    expect(res.status, res.stderr).toBe(0);
    summary = JSON.parse(res.stdout);
    out = readJsonl(outFile);

    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on("request", (r) => requests.push(r.url()));
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(pathToFileURL(report).href, { waitUntil: "load" });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it("shows accuracy, recall, false positives and times per file and in total, as the JSON says", async () => {
    const rows = await cells(page, "#summary tbody tr");
    const expected = [...summary.files, { ...summary.total, file: "total" }].map((s) => [
      s.file,
      String(s.n),
      pct(s.accuracy * s.n, s.n),
      `${s.acceptedCorrect} / ${s.labelledCorrect} (${pct(s.acceptedCorrect, s.labelledCorrect)})`,
      `${s.acceptedWrong} / ${s.labelledWrong} (${pct(s.acceptedWrong, s.labelledWrong)})`,
      ms3(s.medianMs),
      ms3(s.p99Ms),
    ]);
    expect(rows).toEqual(expected);
    expect(summary.files.map((f) => f.file)).toEqual([fileA, fileB]);
    expect(summary.total.n).toBe(setA.length + setB.length);
  });

  it("shows the confusion counts of each file", async () => {
    const rows = await cells(page, "#confusion tbody tr");
    expect(rows).toEqual(
      [...summary.files, { ...summary.total, file: "total" }].map((s) => [
        s.file,
        String(s.acceptedCorrect),
        String(s.labelledCorrect - s.acceptedCorrect),
        String(s.acceptedWrong),
        String(s.labelledWrong - s.acceptedWrong),
      ]),
    );
  });

  it("shows the rule outcomes of each file", async () => {
    const [head] = await cells(page, "#rule-outcomes thead tr");
    const rows = await cells(page, "#rule-outcomes tbody tr");
    const cols = (head ?? []).slice(1);
    expect(cols).toContain("MATCH");
    const named = [...summary.files, { ...summary.total, file: "total" }];
    expect(rows).toEqual(named.map((s) => [s.file, ...cols.map((c) => String(s.ruleOutcomes[c] ?? 0))]));
    // Every outcome that occurred has a column.
    expect(new Set(cols)).toEqual(new Set(Object.keys(summary.total.ruleOutcomes)));
  });

  it("lists every disagreement, and only those, with its label, gold, extracted answer and outcome", async () => {
    const rows = await cells(page, "#disagreements tbody tr");
    const items = [
      ...setA.map((r, i) => ({ ...r, file: fileA, line: i + 1 })),
      ...setB.map((r, i) => ({ ...r, file: fileB, line: i + 1 })),
    ];
    const expected = items.flatMap((it, i) => {
      const o = out[i] as OutRow;
      return o.correct === it.label
        ? []
        : [
            [
              `${it.file}:${it.line}`,
              it.id,
              it.label ? "correct" : "wrong",
              `${o.correct ? "accepted" : "rejected"} (${it.label ? "false negative" : "false positive"})`,
              it.ground_truth,
              o.extracted_answer,
              `rules ${o.rule_outcome} · LLM ${o.llm_outcome} · by RULES`,
            ],
          ];
    });
    // The sure ones: a3 (7 vs 8) rejected though labelled correct, a4 (3 vs 3) accepted though labelled wrong.
    expect(expected.map((r) => r[1])).toEqual(expect.arrayContaining(["a3", "a4"]));
    expect(rows.map((r) => r.slice(0, 7))).toEqual(expected);
    const heading = await seen(page.locator("h2", { hasText: "Disagreements" }));
    expect(heading).toBe(`Disagreements (${expected.length} of ${expected.length})`);
  });

  it("draws one latency histogram per file, its bars adding up to the file's items", async () => {
    const figures = page.locator("figure.latency");
    expect(await figures.count()).toBe(2);
    for (const [i, s] of summary.files.entries()) {
      const fig = figures.nth(i);
      expect(await seen(fig.locator("h3"))).toBe(s.file);
      const bars = await fig.locator("rect.bar").evaluateAll((rects) =>
        rects.map((r) => ({
          count: Number(r.getAttribute("data-count")),
          h: r.getBoundingClientRect().height,
        })),
      );
      expect(bars.length).toBeGreaterThan(0);
      expect(bars.reduce((a, b) => a + b.count, 0)).toBe(s.n);
      for (const b of bars) expect(b.h > 0).toBe(b.count > 0);
      expect(await fig.locator("svg").isVisible()).toBe(true);
      expect((await fig.locator("svg").boundingBox())?.height).toBeGreaterThan(100);
    }
  });

  it("renders hostile text as text: no script of the data runs, no element of the data exists", async () => {
    expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator("#injected").count()).toBe(0);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.locator("script").count()).toBe(1); // the page's own
    const row = page.locator("#disagreements tbody tr", { hasText: HOSTILE_ID });
    expect(await row.count()).toBe(1);
    await row.locator("summary").click();
    const text = await seen(row);
    expect(text).toContain(HOSTILE_GOLD);
    expect(text).toContain(HOSTILE_RESPONSE);
    expect(await seen(page.locator("h3").first())).toContain("<i>&");
  });

  it("runs its own filter under its content security policy, and makes no request", async () => {
    await page.selectOption("#filter-kind", "fp");
    const fp = summary.total.acceptedWrong;
    // The page filters on its input events: poll until it has (a bare read raced it once in CI).
    const rows = () => page.locator("#disagreements tbody tr:visible").count();
    await expect.poll(() => seen(page.locator("#shown"))).toBe(String(fp));
    await expect.poll(rows).toBe(fp);
    await page.selectOption("#filter-kind", "");
    await page.fill("#filter-text", "a3");
    await expect.poll(rows).toBe(1);
    expect(violations).toEqual([]);
    expect(requests).toEqual([page.url()]);
  });
});
