/**
 * `hdx audit console`: a web console on the officer's own machine (127.0.0.1 only), showing the audit log
 * as this officer verified it. Handlers are thin: the guard decides who may ask, the snapshot what is
 * known, the views how it looks. No request is logged (a query could hold an identifier).
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ComplianceSession } from '../session.js';
import { exportLines, EXPORTS, isExportPath } from './exports.js';
import { Guard, SECURITY_HEADERS, type ConsoleSession } from './guard.js';
import { esc } from './html.js';
import { isLang, WORDS } from './i18n.js';
import { page, type PageContext } from './layout.js';
import { consentList, consentPage, exportsBody, patientForm, patientResults, reportForm, transferList, transferPage } from './lookups.js';
import { buildModel, type Model } from './model.js';
import { chromiumPath } from './chromium.js';
import { renderPdf } from './pdf.js';
import { CONSOLE_CSS } from './styles.js';
import { takeSnapshot } from './verified-log.js';
import { chartsBody, isMonth, overviewBody, reportBody } from './views.js';
import { dayOf } from './figures.js';

export interface ConsoleOptions {
  session: ComplianceSession;
  /** The officer's saved checkpoint (as `hdx audit verify --state`). */
  statePath: string;
  /** The officer's copy of the party registry, for the hop signatures' keys. */
  registryPath?: string;
  port?: number;
  clock?: () => number;
  timeZone?: string;
}

export interface RunningConsole {
  port: number;
  origin: string;
  /** The one-time login link to hand to the browser. */
  loginUrl: string;
  /** Verifies the log again (as the page's button does). */
  refresh(): Promise<void>;
  close(): Promise<void>;
}

const MAX_FORM_BYTES = 16 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const clock = options.clock ?? Date.now;
  const timeZone = options.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const guard = new Guard();
  let model: Model = buildModel(await takeSnapshot(options.session, options.statePath, clock), clock());
  let refreshing: Promise<void> | undefined;
  const refresh = () =>
    (refreshing ??= takeSnapshot(options.session, options.statePath, clock)
      .then((snapshot) => {
        model = buildModel(snapshot, clock());
      })
      .finally(() => {
        refreshing = undefined;
      }));

  const context = (session: ConsoleSession, path: string): PageContext => ({
    w: WORDS[session.lang],
    lang: session.lang,
    csrf: session.csrf,
    snapshot: model.snapshot,
    now: clock(),
    timeZone,
    path,
  });

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, ...extra });
    res.end(body);
  };
  const sendPage = (res: ServerResponse, body: string, status = 200) => send(res, status, 'text/html; charset=utf-8', body);
  const redirect = (res: ServerResponse, to: string) => send(res, 303, 'text/plain; charset=utf-8', '', { Location: to });
  const seqParam = (url: URL): number => {
    const value = url.searchParams.get('seq') ?? '';
    if (!/^\d{1,12}$/.test(value)) throw new HttpError(400, 'seq must be a log position');
    return Number(value);
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!guard.hostAllowed(req)) return send(res, 421, 'text/plain; charset=utf-8', 'misdirected request: this console answers only to its own loopback address\n');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (req.method === 'GET' && url.pathname === '/assets/console.css') return send(res, 200, 'text/css; charset=utf-8', CONSOLE_CSS);
    if (req.method === 'GET' && url.pathname === '/login') {
      if (!guard.login(url.searchParams.get('secret') ?? '', res)) {
        return send(res, 403, 'text/plain; charset=utf-8', 'this login link is not valid or was used already: restart `hdx audit console` for a new one\n');
      }
      return redirect(res, '/');
    }
    const session = guard.session(req);
    if (!session) return send(res, 401, 'text/plain; charset=utf-8', 'not signed in: open the login link that `hdx audit console` printed\n');

    if (req.method === 'POST') return handlePost(req, res, session, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { Allow: 'GET, POST' });

    const path = url.pathname;
    const ctx = context(session, path);
    const { w } = ctx;
    if (isExportPath(path)) {
      const spec = EXPORTS[path];
      res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': spec.type, 'Content-Disposition': `attachment; filename="${spec.file}"` });
      for (const line of exportLines(path, model.snapshot)) if (!res.write(line)) await new Promise((r) => res.once('drain', r));
      res.end();
      return;
    }
    switch (path) {
      case '/':
        return sendPage(res, page(ctx, w.nav_overview, overviewBody(ctx, model)));
      case '/charts':
        return sendPage(res, page(ctx, w.nav_charts, chartsBody(ctx, model)));
      case '/patient':
        return sendPage(res, page(ctx, w.patient_title, patientForm(ctx)));
      case '/transfers':
        return sendPage(res, page(ctx, w.recent_transfers, transferList(ctx, model)));
      case '/transfer':
        return sendPage(res, page(ctx, w.transfer_title, await transferPage(ctx, model, options.session, seqParam(url), options.registryPath)));
      case '/consents':
        return sendPage(res, page(ctx, w.recent_consents, consentList(ctx)));
      case '/consent':
        return sendPage(res, page(ctx, w.consent_title, consentPage(ctx, seqParam(url))));
      case '/exports':
        return sendPage(res, page(ctx, w.exports_title, exportsBody(ctx)));
      case '/report':
        return sendPage(res, page(ctx, w.report_title, reportForm(ctx, dayOf(ctx.now, timeZone).slice(0, 7))));
      case '/report/view': {
        const month = url.searchParams.get('month');
        if (!isMonth(month)) throw new HttpError(400, 'month must be YYYY-MM');
        if (url.searchParams.get('format') === 'pdf') {
          const browser = chromiumPath();
          if (!browser) throw new HttpError(503, 'no Chromium at /usr/bin/chromium (or HDX_CHROMIUM): install Debian’s chromium package for PDF reports');
          const pdf = await renderPdf(standaloneReport(ctx, month), browser);
          return send(res, 200, 'application/pdf', pdf, { 'Content-Disposition': `attachment; filename="hdx-audit-report-${month}.pdf"` });
        }
        return sendPage(res, page(ctx, `${w.report_title} ${month}`, reportBody(ctx, model, month)));
      }
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  }

  /** The report as one self-contained document (inline styles) for the PDF printer. */
  function standaloneReport(ctx: PageContext, month: string): string {
    return `<!doctype html><html lang="${ctx.lang === 'zh' ? 'zh-CN' : 'en'}"><head><meta charset="utf-8"><title>${esc(ctx.w.report_heading)} ${esc(month)}</title><style>${CONSOLE_CSS}</style></head><body><main>${reportBody(ctx, model, month).text}</main></body></html>`;
  }

  async function handlePost(req: IncomingMessage, res: ServerResponse, session: ConsoleSession, url: URL): Promise<void> {
    if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) throw new HttpError(415, 'forms only');
    const form = new URLSearchParams(await readBody(req));
    if (!guard.postAllowed(req, session, form)) return send(res, 403, 'text/plain; charset=utf-8', 'refused: this request did not come from the console’s own page\n');
    const back = form.get('back') ?? '/';
    const safeBack = /^\/[a-z/]*$/.test(back) ? back : '/';
    switch (url.pathname) {
      case '/refresh':
        await refresh();
        return redirect(res, safeBack);
      case '/lang': {
        const lang = form.get('lang');
        if (isLang(lang)) session.lang = lang;
        return redirect(res, safeBack);
      }
      case '/patient': {
        const nationalId = (form.get('patientId') ?? '').trim();
        if (nationalId.length === 0 || nationalId.length > 64) throw new HttpError(400, 'enter a resident ID');
        const ctx = context(session, '/patient');
        return sendPage(res, page(ctx, ctx.w.patient_title, await patientResults(ctx, options.session, nationalId)));
      }
      default:
        return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const { status, message } = failureOf(error);
      if (!res.headersSent) send(res, status, 'text/plain; charset=utf-8', `${message}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  guard.port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${guard.port}`;
  return {
    port: guard.port,
    origin,
    loginUrl: `${origin}${guard.loginPath()}`,
    refresh,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What to tell the browser: our own 4xx, the gateway's refusal of bad input as 400, else 502. */
function failureOf(error: unknown): { status: number; message: string } {
  if (error instanceof HttpError) return { status: error.status, message: error.message };
  const grpc = error as { code?: number; details?: string };
  if (grpc.code === grpcStatus.INVALID_ARGUMENT) return { status: 400, message: `the gateway refused the request: ${grpc.details ?? ''}` };
  if (grpc.code === grpcStatus.NOT_FOUND) return { status: 404, message: `not found at the gateway: ${grpc.details ?? ''}` };
  return { status: 502, message: `the gateway did not answer: ${grpc.details ?? (error as Error).message}` };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) {
        reject(new HttpError(413, 'form too large'));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
