/**
 * The system's Chromium (Debian's `chromium` package) driven through playwright-core, which downloads no
 * browser. Only the few calls the console and its tests make are typed here, and the package is loaded
 * when first needed, so the CLI starts without it and a checkout type-checks before `npm install` has
 * fetched it.
 */
import { existsSync } from 'node:fs';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export interface Response {
  status(): number;
  headers(): Record<string, string>;
  text(): Promise<string>;
  body(): Promise<Buffer>;
}

export interface Locator {
  click(): Promise<void>;
  focus(): Promise<void>;
  fill(value: string): Promise<void>;
  textContent(): Promise<string | null>;
  getAttribute(name: string): Promise<string | null>;
  count(): Promise<number>;
  allTextContents(): Promise<string[]>;
  evaluateAll<R>(fn: (elements: DomElement[]) => R): Promise<R>;
}

/** What a test reads of an element inside the page (this project compiles without the DOM library). */
export interface DomElement {
  querySelectorAll(selector: string): ArrayLike<DomElement>;
  textContent: string | null;
}

export interface Page {
  goto(url: string): Promise<Response | null>;
  url(): string;
  content(): Promise<string>;
  setContent(html: string, options?: { waitUntil?: 'load' }): Promise<void>;
  locator(selector: string, options?: { hasText?: string }): Locator;
  waitForSelector(selector: string): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<Buffer>;
  pdf(options: { format: string; printBackground: boolean; margin: Record<string, string> }): Promise<Buffer>;
  keyboard: { type(text: string): Promise<void>; press(key: string): Promise<void> };
  request: { get(url: string, options?: { timeout?: number }): Promise<Response> };
  /** 0: no limit of the driver's own (a loaded machine is slow; the test runner's limit still applies). */
  setDefaultTimeout(ms: number): void;
}

export interface BrowserContext {
  newPage(): Promise<Page>;
}

export interface Browser {
  newContext(options?: { viewport?: { width: number; height: number }; offline?: boolean; javaScriptEnabled?: boolean }): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** The browser's path: `HDX_CHROMIUM`, else Debian's; undefined when it is not installed. */
export function chromiumPath(): string | undefined {
  const path = process.env.HDX_CHROMIUM ?? DEFAULT_CHROMIUM;
  return existsSync(path) ? path : undefined;
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  // A specifier in a variable: resolved at run time only (see above).
  const name = 'playwright-core';
  const { chromium } = (await import(name)) as { chromium: { launch(options: { executablePath: string; args: string[] }): Promise<Browser> } };
  return chromium.launch({ executablePath, args: ['--no-sandbox'] });
}
