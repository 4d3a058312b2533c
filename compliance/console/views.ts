/** The overview, the charts and the monthly report: figures over the verified log. */
import { formatSeconds } from '../service-levels.js';
import { barChart, lineChart, windowChart } from './charts.js';
import { countsForDay, dayOf, denialsByReason, lastDays, serviceLevelsFromLog, transfersPerDay, type LogServiceLevel } from './figures.js';
import { html, type Html } from './html.js';
import type { Words } from './i18n.js';
import { table, type PageContext } from './layout.js';
import type { Model } from './model.js';

export function overviewBody(ctx: PageContext, model: Model): Html {
  const { w } = ctx;
  const { report, events } = ctx.snapshot;
  const last = events.at(-1)?.event;
  const age = last ? formatSeconds(Math.max(0, (ctx.now - Date.parse(last.at)) / 1000)) : '—';
  const today = dayOf(ctx.now, ctx.timeZone);
  const counts = countsForDay(events, model.stories, today, ctx.timeZone);
  return html`<div class="cards">
<div class="card" id="log-size">${w.log_size}<b>${report.treeSize}</b></div>
<div class="card">${w.checkpoint_age}<b>${age}</b>${last ? html`<span class="mono">${last.at}</span>` : ''}</div>
<div class="card">${w.root}<b class="mono">${report.rootHash.slice(0, 16)}…</b></div>
<div class="card">${w.verified_at}<b>${ctx.snapshot.takenAt.toISOString().slice(11, 19)}</b></div>
</div>
<h3>${w.today} (${today})</h3>
${counts.length === 0 ? html`<p>${w.nothing_today}</p>` : partyTable(w, counts, 'today')}`;
}

function partyTable(w: Words, counts: ReturnType<typeof countsForDay>, id: string): Html {
  return table(
    [w.party, w.role, w.transfers, w.denials, w.withholdings, w.decisions],
    counts.map((c) => [c.partyId, c.role === 'hospital' ? w.hospital : w.insurer, c.transfers, c.denials, c.withholdings, c.decisions]),
    [2, 3, 4, 5],
    id,
  );
}

export function chartsBody(ctx: PageContext, model: Model): Html {
  const days = lastDays(ctx.now, 14, ctx.timeZone);
  return html`${volumeSection(ctx, model, days)}${denialSection(ctx, () => true)}${serviceSection(ctx, model, model.levels, true)}${overdueSection(ctx, model)}`;
}

function volumeSection(ctx: PageContext, model: Model, days: string[]): Html {
  const { w } = ctx;
  const series = transfersPerDay(model.stories, days, ctx.timeZone);
  return html`<section><h3>${w.transfers_per_day}</h3>${lineChart(w.transfers_per_day, days, series)}
${table([w.day, ...series.keys()], days.map((d, i) => [d, ...[...series.values()].map((s) => s[i]!)]), [...series.keys()].map((_, i) => i + 1), 'transfers-per-day')}</section>`;
}

function denialSection(ctx: PageContext, inPeriod: Parameters<typeof denialsByReason>[1]): Html {
  const { w } = ctx;
  const rows = denialsByReason(ctx.snapshot.events, inPeriod);
  return html`<section><h3>${w.denials_by_reason}</h3>${rows.length === 0 ? html`<p>${w.no_data}</p>` : html`${barChart(w.denials_by_reason, rows.map((r) => ({ label: r.reason, value: r.count })))}${table([w.reason, w.count], rows.map((r) => [r.reason, r.count]), [1], 'denials')}`}</section>`;
}

/** Our figures from the log beside the gateway's own report, and whether they agree. */
function serviceSection(ctx: PageContext, model: Model, levels: LogServiceLevel[], compare: boolean): Html {
  const { w } = ctx;
  if (levels.length === 0) return html`<section><h3>${w.service_levels}</h3><p>${w.no_data}</p></section>`;
  const theirs = ctx.snapshot.serviceLevels?.levels ?? [];
  const rows = levels.map((l) => {
    const promised = model.windowSeconds(l.insurerId, l.window);
    const g = theirs.find((t) => t.insurerId === l.insurerId && t.window === l.window);
    const agrees = g !== undefined && agreesWith(l, g);
    const cells: Array<Html | string | number> = [
      l.insurerId,
      l.window,
      promised === undefined ? '—' : formatSeconds(promised),
      l.submitted,
      l.decided,
      l.decided ? formatSeconds(l.medianSeconds) : '—',
      l.decided ? formatSeconds(l.p95Seconds) : '—',
    ];
    if (compare) {
      cells.push(
        g ? html`${g.decided ? `${formatSeconds(g.medianSeconds)} / ${formatSeconds(g.p95Seconds)}` : '—'} <span class="${agrees ? 'good' : 'bad'}">${agrees ? w.agrees : w.disagrees}</span>` : html`<span class="bad">${w.disagrees}</span>`,
      );
    }
    return cells;
  });
  const chartRows = levels
    .filter((l) => l.decided > 0 && model.windowSeconds(l.insurerId, l.window))
    .map((l) => ({ label: `${l.insurerId} · ${l.window}`, p50: l.medianSeconds, p95: l.p95Seconds, window: model.windowSeconds(l.insurerId, l.window)! }));
  return html`<section><h3>${w.service_levels}</h3>${chartRows.length ? windowChart(w.service_levels, chartRows, { p50: w.p50, p95: w.p95, window: w.promised }) : ''}
${table([w.insurer, w.window, w.promised, w.submitted, w.decided, w.p50, w.p95, ...(compare ? [w.gateway_says] : [])], rows, [3, 4, 5, 6], 'service-levels')}</section>`;
}

/**
 * The gateway times a transfer from before sealing, the log from its commit a few milliseconds later, so
 * the figures agree when the counts are equal and the times within a second.
 */
function agreesWith(l: LogServiceLevel, g: { submitted: number; decided: number; medianSeconds: number; p95Seconds: number }): boolean {
  return l.submitted === g.submitted && l.decided === g.decided && Math.abs(l.medianSeconds - g.medianSeconds) <= 1 && Math.abs(l.p95Seconds - g.p95Seconds) <= 1;
}

function overdueSection(ctx: PageContext, model: Model): Html {
  const { w } = ctx;
  return html`<section><h3>${w.overdue}</h3>${
    model.overdue.length === 0
      ? html`<p id="overdue-none">${w.none_overdue}</p>`
      : table(
          [w.transfer, w.insurer, w.window, w.submitted, w.age],
          model.overdue.map((o) => [html`<a href="/transfer?seq=${o.seq}">${o.transferId}</a>`, o.insurerId, o.window, new Date(o.submittedAt).toISOString(), formatSeconds(o.ageSeconds)]),
          [4],
          'overdue',
        )
  }</section>`;
}

/** Days of a month `YYYY-MM`. */
function daysOfMonth(month: string): string[] {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const count = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return Array.from({ length: count }, (_, i) => `${month}-${String(i + 1).padStart(2, '0')}`);
}

export function isMonth(value: string | null): value is string {
  return value !== null && /^\d{4}-(0[1-9]|1[0-2])$/.test(value);
}

/** The printable monthly report: totals per party, volumes, denials, service levels for transfers of the month. */
export function reportBody(ctx: PageContext, model: Model, month: string): Html {
  const { w } = ctx;
  const days = daysOfMonth(month);
  const inMonth = (at: string | number) => dayOf(at, ctx.timeZone).startsWith(month);
  const totals = new Map<string, ReturnType<typeof countsForDay>[number]>();
  for (const day of days) {
    for (const c of countsForDay(ctx.snapshot.events, model.stories, day, ctx.timeZone)) {
      const key = `${c.role}\u0000${c.partyId}`;
      const t = totals.get(key) ?? { ...c, transfers: 0, denials: 0, withholdings: 0, decisions: 0 };
      t.transfers += c.transfers;
      t.denials += c.denials;
      t.withholdings += c.withholdings;
      t.decisions += c.decisions;
      totals.set(key, t);
    }
  }
  const stories = [...model.stories.values()].filter((s) => inMonth(s.createdAt));
  const { levels } = serviceLevelsFromLog(stories, (win) => model.windowSeconds('', win), ctx.now);
  const { report } = ctx.snapshot;
  return html`<article class="report">
<h1>${w.report_heading}</h1>
<p>${w.report_period}: <b id="report-month">${month}</b> · ${w.generated}: ${new Date(ctx.now).toISOString()} · ${w.log_size}: ${report.treeSize} · ${w.root}: <span class="mono">${report.rootHash}</span></p>
<p class="${report.ok ? 'good' : 'bad'}">${report.ok ? `✓ ${w.verified_banner}` : `⚠ ${w.failing_banner}: ${report.failure}`}</p>
<section><h3>${w.report_totals}</h3>${partyTable(w, [...totals.values()].sort((a, b) => a.role.localeCompare(b.role) || a.partyId.localeCompare(b.partyId)), 'report-totals')}</section>
${volumeSection(ctx, model, days)}
${denialSection(ctx, (e) => inMonth(e.at))}
${serviceSection(ctx, model, levels, false)}
</article>`;
}
