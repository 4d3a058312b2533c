/**
 * The console's front door, for a web server on the officer's own machine that any web page the officer
 * visits could try to reach:
 * - loopback only, and the Host header must name this server (a DNS-rebinding page sends its own name: 421);
 * - a one-time login secret, printed at start, exchanged for an HttpOnly SameSite=Strict cookie and a
 *   redirect, so the secret does not stay in the address bar or history;
 * - every POST carries the session's CSRF token and this server's Origin;
 * - headers: a CSP that allows no script at all, no caching, no referrer to other sites, no framing.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Lang } from './i18n.js';

export const COOKIE = 'hdx_console';

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy':
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  // Not no-referrer: under it Chromium sends `Origin: null` with the page's own form posts.
  'Referrer-Policy': 'same-origin',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface ConsoleSession {
  csrf: string;
  lang: Lang;
}

const same = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export class Guard {
  private loginSecret: string | undefined = randomBytes(32).toString('base64url');
  private readonly sessions = new Map<string, ConsoleSession>();
  port = 0;

  /** The link to print at start; undefined once it has been used. */
  loginPath(): string | undefined {
    return this.loginSecret ? `/login?secret=${this.loginSecret}` : undefined;
  }

  hosts(): string[] {
    return [`127.0.0.1:${this.port}`, `localhost:${this.port}`];
  }

  hostAllowed(req: IncomingMessage): boolean {
    return this.hosts().includes(req.headers.host ?? '');
  }

  /** Exchanges the one-time secret for a session cookie; false if the secret is wrong or was used. */
  login(secret: string, res: ServerResponse): boolean {
    if (!this.loginSecret || !same(secret, this.loginSecret)) return false;
    this.loginSecret = undefined;
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { csrf: randomBytes(32).toString('base64url'), lang: 'en' });
    res.setHeader('Set-Cookie', `${COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/`);
    return true;
  }

  session(req: IncomingMessage): ConsoleSession | undefined {
    const id = cookieValue(req.headers.cookie ?? '', COOKIE);
    return id ? this.sessions.get(id) : undefined;
  }

  /** A POST is ours only if the browser says it comes from this server and it carries the session's token. */
  postAllowed(req: IncomingMessage, session: ConsoleSession, form: URLSearchParams): boolean {
    const origin = req.headers.origin;
    if (!origin || !this.hosts().some((h) => origin === `http://${h}`)) return false;
    return same(form.get('csrf') ?? '', session.csrf);
  }
}

function cookieValue(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}
