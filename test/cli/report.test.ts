import { describe, expect, it } from "vitest";
import { summarize } from "../../src/cli/eval-stats.js";
import { binLabel, histogram } from "../../src/cli/report/histogram.js";
import { escapeHtml, html, trusted } from "../../src/cli/report/html.js";
import { clipHead, clipTail, type ReportItem, renderReport } from "../../src/cli/report/page.js";

describe("report html", () => {
  it("escapes every interpolated value, in text and in attributes, unless it is markup made here", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;",
    );
    const hostile = '"><script>alert(1)</script>';
    const out = html`<td title="${hostile}">${hostile}${[1, [" ", "<b>"]]}${undefined}${false}${html`<i>ok</i>`}${trusted("<hr>")}</td>`;
    expect(out.text).toBe(
      '<td title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;1 &lt;b&gt;<i>ok</i><hr></td>',
    );
  });

  it("clips long texts, saying how much was cut", () => {
    expect(clipHead("abc", 5)).toBe("abc");
    expect(clipHead("abcdefgh", 3)).toBe("abc… (5 more characters)");
    expect(clipTail("abcdefgh", 3)).toBe("(5 characters before) …fgh");
  });
});

describe("latency histogram", () => {
  it("bins times on a 1-2-5 scale from the fastest bin to the slowest, every time counted once", () => {
    expect(histogram([])).toEqual([]);
    const bins = histogram([0.05, 0.051, 0.099, 0.1, 0.3, 25, 0.0000001]);
    expect(bins[0]).toMatchObject({ lo: 0, hi: 0.001, count: 1 });
    expect(bins.at(-1)).toMatchObject({ lo: 20, hi: 50, count: 1 });
    expect(bins.reduce((a, b) => a + b.count, 0)).toBe(7);
    const at = (lo: number) => bins.find((b) => b.lo === lo)?.count;
    expect(at(0.05)).toBe(3);
    expect(at(0.1)).toBe(1);
    expect(at(0.2)).toBe(1);
    expect(at(1)).toBe(0); // empty bins inside the range stay, so the axis is even
    expect(binLabel({ lo: 0.05, hi: 0.1, count: 0 })).toBe("50 µs–100 µs");
    expect(histogram([1e9]).at(-1)).toMatchObject({ hi: Number.POSITIVE_INFINITY, count: 1 });
  });
});

describe("report page", () => {
  const item = (over: Partial<ReportItem>): ReportItem => ({
    file: "f.jsonl",
    line: 1,
    id: "x",
    label: true,
    correct: true,
    gold: "1",
    response: "\\boxed{1}",
    extracted: "1",
    ruleOutcome: "MATCH",
    llmOutcome: "NOT_ASKED",
    decidedBy: "RULES",
    ms: 0.1,
    ...over,
  });

  it("loads nothing: no src or href anywhere, and a policy that forbids loading", () => {
    const items = [item({}), item({ id: "y", line: 2, correct: false, response: '<img src="http://x/y">' })];
    const s = summarize(items.map((i) => ({ ...i, ruleOutcome: i.ruleOutcome, llmOutcome: i.llmOutcome })));
    const page = renderReport({
      generatedAt: "2026-01-01T00:00:00.000Z",
      mode: "rules_only",
      files: [{ ...s, file: "f.jsonl" }],
      total: s,
      skipped: 0,
      errors: 0,
      items,
    });
    expect(page).not.toMatch(/<[a-z][^>]*\s(src|href)=/i);
    expect(page).toContain("default-src &#39;none&#39;;"); // the policy, escaped as every attribute is
    expect(page).toContain("&lt;img src=&quot;http://x/y&quot;&gt;");
    expect(page.match(/<script>/g)).toHaveLength(1);
  });
});
