/** The frame of every console page: navigation, the verification banner (loud when failing), the language switch. */
import { html, type Html } from './html.js';
import type { Lang, Words } from './i18n.js';
import type { Snapshot } from './verified-log.js';

export interface PageContext {
  w: Words;
  lang: Lang;
  csrf: string;
  snapshot: Snapshot;
  /** The console's clock (ms). */
  now: number;
  timeZone: string;
  path: string;
}

const NAV: Array<[string, keyof Words]> = [
  ['/', 'nav_overview'],
  ['/charts', 'nav_charts'],
  ['/patient', 'nav_patient'],
  ['/transfers', 'nav_transfers'],
  ['/consents', 'nav_consent'],
  ['/exports', 'nav_exports'],
  ['/report', 'nav_report'],
];

export function banner(ctx: PageContext): Html {
  const { report } = ctx.snapshot;
  const proved = html`<details><summary>${ctx.w.proved}</summary><ul>${report.proved.map((p) => html`<li>✓ ${p}</li>`)}</ul></details>`;
  if (!report.ok) {
    return html`<div class="banner failing" role="alert" id="verification" data-state="failing">⚠ ${ctx.w.failing_banner}<p>${report.failure}</p><p>${ctx.w.failing_detail}</p>${proved}</div>`;
  }
  return html`<div class="banner ok" role="status" id="verification" data-state="verified">✓ ${ctx.w.verified_banner}: ${report.treeSize} ${ctx.w.events} · ${ctx.w.verified_at} ${ctx.snapshot.takenAt.toISOString()}<p>${ctx.w.verified_detail}</p>${proved}</div>`;
}

/** A page; while the log fails verification its figures are replaced by that statement (nothing is verified). */
export function page(ctx: PageContext, title: string, content: Html): string {
  const body = ctx.snapshot.report.ok ? content : html`<p class="bad" id="no-figures">${ctx.w.failing_detail}</p>`;
  const hidden = html`<input type="hidden" name="csrf" value="${ctx.csrf}"><input type="hidden" name="back" value="${ctx.path}">`;
  return `<!doctype html>${html`<html lang="${ctx.lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title} · ${ctx.w.title}</title><link rel="stylesheet" href="/assets/console.css"></head>
<body><a class="skip" href="#main">${ctx.w.skip}</a>
<header><h1>${ctx.w.title}</h1><nav aria-label="main">${NAV.map(([href, key]) => html`<a href="${href}"${ctx.path === href ? html` aria-current="page"` : ''}>${ctx.w[key]}</a>`)}</nav>
<form method="post" action="/refresh">${hidden}<button type="submit">${ctx.w.refresh}</button></form>
<form method="post" action="/lang">${hidden}<input type="hidden" name="lang" value="${ctx.lang === 'en' ? 'zh' : 'en'}"><button type="submit" lang="${ctx.lang === 'en' ? 'zh-CN' : 'en'}">${ctx.w.switch_lang}</button></form></header>
${banner(ctx)}
<main id="main" tabindex="-1"><h2>${title}</h2>${body}</main></body></html>`}`;
}

/** A table from rows of cells; `numeric` marks right-aligned columns. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<Html | string | number>>, numeric: readonly number[] = [], id?: string): Html {
  const cls = (i: number) => (numeric.includes(i) ? html` class="n"` : '');
  return html`<table${id ? html` id="${id}"` : ''}><thead><tr>${headers.map((h, i) => html`<th${cls(i)} scope="col">${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((c, i) => html`<td${cls(i)}>${c}</td>`)}</tr>`)}</tbody></table>`;
}
