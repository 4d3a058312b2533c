/**
 * A line chart as a standalone SVG string: one polyline with markers per series, a linear x axis from
 * zero, a linear (from zero) or logarithmic y axis, round ticks, a legend. Hand-written so the bench needs no plotting dependency.
 */

export interface ChartSeries {
  name: string;
  /** Points in x order; NaN values are left out. */
  points: Array<{ x: number; y: number }>;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** A logarithmic y axis (decades): latency past the knee is orders of magnitude above it. */
  logY?: boolean;
  /** A horizontal line to read the series against (e.g. a target), when there is one. */
  reference?: { y: number; label: string };
}

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = { left: 70, right: 170, top: 40, bottom: 50 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A round step (1, 2 or 5 × 10^n) giving about `count` ticks from 0 to max. */
function tickStep(max: number, count = 5): number {
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  return step ?? 10 * magnitude;
}

function label(value: number): string {
  if (Math.abs(value) >= 1000) return `${Math.round(value / 100) / 10}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export function lineChartSvg(chart: LineChart): string {
  const usable = (p: { x: number; y: number }) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!chart.logY || p.y > 0);
  const series = chart.series.map((s) => ({ ...s, points: s.points.filter(usable) }));
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p.x));
  const yMax = Math.max(1, ...all.map((p) => p.y), chart.reference?.y ?? 0) * 1.05;
  const xStep = tickStep(xMax);
  const xEnd = Math.ceil(xMax / xStep) * xStep;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + (x / xEnd) * plotW;
  let yTicks: number[];
  let py: (y: number) => number;
  if (chart.logY) {
    const lo = Math.floor(Math.log10(Math.min(yMax, ...all.map((p) => p.y))));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(yMax)));
    yTicks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
    py = (y: number) => MARGIN.top + plotH - ((Math.log10(y) - lo) / (hi - lo)) * plotH;
  } else {
    const yStep = tickStep(yMax);
    const yEnd = Math.ceil(yMax / yStep) * yStep;
    yTicks = Array.from({ length: Math.round(yEnd / yStep) + 1 }, (_, i) => i * yStep);
    py = (y: number) => MARGIN.top + plotH - (y / yEnd) * plotH;
  }
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escape(chart.title)}</text>`,
  ];
  for (let x = 0; x <= xEnd + 1e-9; x += xStep) {
    out.push(`<line x1="${px(x)}" y1="${MARGIN.top}" x2="${px(x)}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${px(x)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${label(x)}</text>`);
  }
  for (const y of yTicks) {
    out.push(`<line x1="${MARGIN.left}" y1="${py(y)}" x2="${MARGIN.left + plotW}" y2="${py(y)}" stroke="#eee"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${py(y) + 4}" text-anchor="end">${label(y)}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escape(chart.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(chart.yLabel)}</text>`);
  if (chart.reference) {
    const y = py(chart.reference.y);
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#999" stroke-dasharray="6 4"/>`);
    out.push(`<text x="${MARGIN.left + plotW - 4}" y="${y - 4}" text-anchor="end" fill="#666">${escape(chart.reference.label)}</text>`);
  }
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const points = s.points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ');
    if (s.points.length > 1) out.push(`<polyline points="${points}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const p of s.points) out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3.5" fill="${colour}"><title>${escape(`${s.name}: ${label(p.y)} at ${label(p.x)}`)}</title></circle>`);
    const ly = MARGIN.top + 10 + i * 20;
    out.push(`<line x1="${WIDTH - MARGIN.right + 12}" y1="${ly}" x2="${WIDTH - MARGIN.right + 32}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`);
    out.push(`<text x="${WIDTH - MARGIN.right + 38}" y="${ly + 4}">${escape(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
