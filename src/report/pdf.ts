// PDF of the HTML report through headless Chromium (Debian's `chromium`, driven by
// playwright-core). Also used by the browser test, so both launch it the same way.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';

export function chromiumPath(): string {
  return process.env.SEI_CHROMIUM ?? '/usr/bin/chromium';
}

export function chromiumAvailable(): boolean {
  return existsSync(chromiumPath());
}

export function chromiumMissingMessage(): string {
  return `PDF output needs Chromium at ${chromiumPath()} (Debian: apt-get install chromium; or set SEI_CHROMIUM to its path). `
    + 'The other formats (md, html, csv, tex) do not need it.';
}

/** A headless Chromium with no network side traffic; playwright gives it a fresh profile folder. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Print an HTML file to PDF (A4 landscape: the cut tables are wide). Requests leaving file:// are refused. */
export async function htmlFileToPdf(htmlPath: string, pdfPath: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.route('**/*', (route) => (route.request().url().startsWith('file:') ? route.continue() : route.abort()));
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load' });
    await page.pdf({ path: pdfPath, format: 'A4', landscape: true, printBackground: true, margin: { top: '12mm', bottom: '12mm', left: '10mm', right: '10mm' } });
  } finally {
    await browser.close();
  }
}
