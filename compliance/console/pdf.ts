/**
 * The monthly report as PDF, printed by the system's Chromium. The report's HTML is self-contained
 * (styles inline, charts as SVG), so the browser runs offline, with JavaScript off, and fetches nothing.
 */
import { launchChromium } from './chromium.js';

export async function renderPdf(documentHtml: string, executablePath: string): Promise<Buffer> {
  const browser = await launchChromium(executablePath);
  try {
    const context = await browser.newContext({ offline: true, javaScriptEnabled: false });
    const page = await context.newPage();
    await page.setContent(documentHtml, { waitUntil: 'load' });
    return await page.pdf({ format: 'A4', printBackground: true, margin: { top: '15mm', bottom: '15mm', left: '12mm', right: '12mm' } });
  } finally {
    await browser.close();
  }
}
