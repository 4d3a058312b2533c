/**
 * Charts as SVG rendered on the server. No script runs in the page (the CSP forbids all script), the same
 * markup prints and goes into the PDF unchanged, and nothing is fetched: a chart library (ECharts,
 * uPlot) would need script, a bundle of its own and canvas snapshots for print, for three simple charts.
 * Each chart carries a title for screen readers and is followed by its numbers as a table.
 */
import { html, type Html } from './html.js';

const W = 720;
const PALETTE = ['#1f6feb', '#d9480f', '#2b8a3e', '#862e9c', '#e67700', '#0b7285'];

const niceMax = (max: number): number => {
  if (max <= 0) return 1;
  const step = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * step >= max) return m * step;
  return 10 * step;
};

/** One line per series over the x labels (days). */
export function lineChart(title: string, labels: readonly string[], series: ReadonlyMap<string, readonly number[]>): Html {
  const H = 260;
  const left = 40;
  const right = 150;
  const top = 16;
  const bottom = 40;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const max = niceMax(Math.max(0, ...[...series.values()].flat()));
  const x = (i: number) => left + (labels.length <= 1 ? plotW / 2 : (i * plotW) / (labels.length - 1));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const ticks = [0, max / 2, max];
  const every = Math.max(1, Math.ceil(labels.length / 8));
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}"><title>${title}</title>
${ticks.map((t) => html`<line x1="${left}" x2="${left + plotW}" y1="${y(t)}" y2="${y(t)}" stroke="#ccc"/><text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11">${Number.isInteger(t) ? t : t.toFixed(1)}</text>`)}
${labels.map((l, i) => (i % every === 0 || i === labels.length - 1 ? html`<text x="${x(i)}" y="${H - bottom + 16}" text-anchor="middle" font-size="10">${l.slice(5)}</text>` : ''))}
${[...series.entries()].map(([name, values], k) => {
  const colour = PALETTE[k % PALETTE.length]!;
  const points = values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return html`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points}"/>${values.map((v, i) => html`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${colour}"/>`)}<rect x="${W - right + 12}" y="${top + k * 18}" width="10" height="10" fill="${colour}"/><text x="${W - right + 28}" y="${top + k * 18 + 9}" font-size="11">${name}</text>`;
})}
</svg>`;
}

/** Horizontal bars, one per row, with the value written after each. */
export function barChart(title: string, rows: ReadonlyArray<{ label: string; value: number }>): Html {
  const rowH = 24;
  const left = 220;
  const H = Math.max(1, rows.length) * rowH + 16;
  const max = niceMax(Math.max(0, ...rows.map((r) => r.value)));
  const barW = (v: number) => (v / max) * (W - left - 60);
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}"><title>${title}</title>
${rows.map((r, i) => html`<text x="${left - 8}" y="${8 + i * rowH + 15}" text-anchor="end" font-size="12">${r.label}</text><rect x="${left}" y="${8 + i * rowH + 4}" width="${barW(r.value).toFixed(1)}" height="${rowH - 8}" fill="${PALETTE[0]}"/><text x="${left + barW(r.value) + 6}" y="${8 + i * rowH + 15}" font-size="12">${r.value}</text>`)}
</svg>`;
}

/**
 * Service levels against their promises: per row, p50 and p95 as bars scaled to the promised window, and
 * a line at 100 % of it, so windows of a minute and of days read on one chart.
 */
export function windowChart(
  title: string,
  rows: ReadonlyArray<{ label: string; p50: number; p95: number; window: number }>,
  legend: { p50: string; p95: string; window: string },
): Html {
  const rowH = 34;
  const left = 260;
  const plotW = W - left - 40;
  const H = Math.max(1, rows.length) * rowH + 40;
  const scale = Math.max(1.5, ...rows.map((r) => (r.window > 0 ? r.p95 / r.window : 0)));
  const x = (share: number) => left + (Math.min(share, scale) / scale) * plotW;
  const windowX = x(1);
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${title}"><title>${title}</title>
${rows.map((r, i) => {
  const y0 = 8 + i * rowH;
  const share = (v: number) => (r.window > 0 ? v / r.window : 0);
  return html`<text x="${left - 8}" y="${y0 + 18}" text-anchor="end" font-size="12">${r.label}</text><rect x="${left}" y="${y0 + 4}" width="${(x(share(r.p95)) - left).toFixed(1)}" height="10" fill="${share(r.p95) > 1 ? '#c92a2a' : '#74c0fc'}"/><rect x="${left}" y="${y0 + 16}" width="${(x(share(r.p50)) - left).toFixed(1)}" height="10" fill="${share(r.p50) > 1 ? '#c92a2a' : '#1f6feb'}"/>`;
})}
<line x1="${windowX}" x2="${windowX}" y1="4" y2="${H - 30}" stroke="#222" stroke-dasharray="4 3"/>
<rect x="${left}" y="${H - 22}" width="10" height="10" fill="#1f6feb"/><text x="${left + 14}" y="${H - 13}" font-size="11">${legend.p50}</text>
<rect x="${left + 120}" y="${H - 22}" width="10" height="10" fill="#74c0fc"/><text x="${left + 134}" y="${H - 13}" font-size="11">${legend.p95}</text>
<line x1="${left + 240}" x2="${left + 256}" y1="${H - 17}" y2="${H - 17}" stroke="#222" stroke-dasharray="4 3"/><text x="${left + 262}" y="${H - 13}" font-size="11">${legend.window}</text>
</svg>`;
}
