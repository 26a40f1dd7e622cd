import { type Html, html } from "./html.js";

export interface Bin {
  /** Lower edge (inclusive) and upper edge (exclusive), in ms. */
  lo: number;
  hi: number;
  count: number;
}

// Edges on a 1-2-5 scale from 1 us to 100 s: per-item times span five orders of magnitude.
const EDGES = Array.from({ length: 11 }, (_, d) => [1, 2, 5].map((m) => m * 10 ** (d - 3))).flat();

/** Counts of times per 1-2-5 bin, from the bin of the fastest to the bin of the slowest. */
export function histogram(ms: readonly number[]): Bin[] {
  if (ms.length === 0) return [];
  const bins = [0, ...EDGES].map((lo, i) => ({ lo, hi: EDGES[i] ?? Number.POSITIVE_INFINITY, count: 0 }));
  for (const t of ms) {
    const i = bins.findIndex((b) => t < b.hi);
    (bins[i === -1 ? bins.length - 1 : i] as Bin).count++;
  }
  const first = bins.findIndex((b) => b.count > 0);
  const last = bins.length - 1 - [...bins].reverse().findIndex((b) => b.count > 0);
  return bins.slice(first, last + 1);
}

const fmt = (ms: number) =>
  ms === Number.POSITIVE_INFINITY
    ? "∞"
    : ms >= 1000
      ? `${ms / 1000} s`
      : ms >= 1
        ? `${ms} ms`
        : `${ms * 1000} µs`;

export const binLabel = (b: Bin): string => `${fmt(b.lo)}–${fmt(b.hi)}`;

/** One bar per bin, its count above it and its range below it; the bar's title says both. */
export function histogramSvg(bins: readonly Bin[], caption: string): Html {
  const barW = 56;
  const gap = 8;
  const plotH = 120;
  const top = 18;
  const width = Math.max(1, bins.length) * (barW + gap) + gap;
  const height = top + plotH + 34;
  const max = Math.max(1, ...bins.map((b) => b.count));
  const bars = bins.map((b, i) => {
    const h = b.count === 0 ? 0 : Math.max(2, Math.round((plotH * b.count) / max));
    const x = gap + i * (barW + gap);
    const y = top + plotH - h;
    return html`<g><rect class="bar" x="${x}" y="${y}" width="${barW}" height="${h}" data-count="${b.count}" data-range="${binLabel(b)}"><title>${binLabel(b)}: ${b.count} items</title></rect>
<text class="count" x="${x + barW / 2}" y="${y - 4}">${b.count}</text>
<text class="range" x="${x + barW / 2}" y="${top + plotH + 14}">${fmt(b.lo)}</text></g>`;
  });
  return html`<svg class="histogram" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" aria-label="${caption}">
<line class="axis" x1="${gap / 2}" y1="${top + plotH}" x2="${width - gap / 2}" y2="${top + plotH}"></line>
${bars}
<text class="unit" x="${gap}" y="${height - 4}">per-item verify time (bin lower edge)</text>
</svg>`;
}
