/** The page's own style sheet and script: inline, so the page needs nothing but itself. */
export const STYLE = `
:root { color-scheme: light; --fg: #1d2330; --muted: #5b6477; --line: #d9dee8; --fn: #b7791f; --fp: #c53030; --bar: #3b6fd4; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--fg); margin: 24px auto; max-width: 1200px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; } h3 { font-size: 14px; margin: 14px 0 4px; }
.meta { color: var(--muted); margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f3f5f9; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 600; }
td.text { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 12px; white-space: pre-wrap; word-break: break-word; min-width: 12em; max-width: 28em; }
.kind-fn { color: var(--fn); font-weight: 600; } .kind-fp { color: var(--fp); font-weight: 600; }
details summary { cursor: pointer; color: var(--muted); }
svg.histogram .bar { fill: var(--bar); } svg.histogram .axis { stroke: var(--muted); }
svg.histogram text { font-size: 11px; fill: var(--fg); text-anchor: middle; } svg.histogram text.unit { text-anchor: start; fill: var(--muted); }
.filters { display: flex; gap: 12px; align-items: center; margin: 6px 0; }
.hidden { display: none; }
`;

/** Filters the disagreement table; reads only the page itself. */
export const SCRIPT = `
(() => {
  const rows = [...document.querySelectorAll("#disagreements tbody tr")];
  const text = document.getElementById("filter-text");
  const kind = document.getElementById("filter-kind");
  const shown = document.getElementById("shown");
  if (!text || !kind || !shown) return;
  const apply = () => {
    const q = text.value.toLowerCase();
    let n = 0;
    for (const r of rows) {
      const ok = (kind.value === "" || r.dataset.kind === kind.value) && r.textContent.toLowerCase().includes(q);
      r.classList.toggle("hidden", !ok);
      if (ok) n++;
    }
    shown.textContent = String(n);
  };
  text.addEventListener("input", apply);
  kind.addEventListener("change", apply);
})();
`;
