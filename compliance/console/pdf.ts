/**
 * The monthly report as PDF, printed by the system's Chromium (Debian's `chromium` package) through
 * playwright-core — no browser is downloaded. The report's HTML is self-contained (styles inline, charts
 * as SVG), so the browser needs no server and fetches nothing.
 */
import { existsSync } from 'node:fs';

export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

export function chromiumPath(): string | undefined {
  const path = process.env.HDX_CHROMIUM ?? DEFAULT_CHROMIUM;
  return existsSync(path) ? path : undefined;
}

export async function renderPdf(documentHtml: string, executablePath: string): Promise<Buffer> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    const context = await browser.newContext({ offline: true, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.setContent(documentHtml, { waitUntil: 'load' });
    return await page.pdf({ format: 'A4', printBackground: true, margin: { top: '15mm', bottom: '15mm', left: '12mm', right: '12mm' } });
  } finally {
    await browser.close();
  }
}
