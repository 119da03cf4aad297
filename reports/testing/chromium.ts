import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (installed by `npm run setup`); playwright-core drives it, it downloads no browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Headless, sandbox-less (root in a container), and quiet: no GPU, no background traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A running headless Chromium with its own fresh profile; disposing closes it and deletes the profile. */
export interface Chromium extends AsyncDisposable {
  context: BrowserContext;
}

/** Starts Chromium with a fresh temp profile (`await using browser = await launchChromium()`). */
export async function launchChromium(): Promise<Chromium> {
  const profile = await mkdtemp(join(tmpdir(), 'faultline-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
    return {
      context,
      [Symbol.asyncDispose]: async () => {
        await context.close();
        await rm(profile, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
}

/** A report page opened from disk, with everything it complained about or tried to fetch. */
export interface OpenedReport {
  page: Page;
  /** Console errors, uncaught exceptions and dialogs (an `alert` means a string ran as script). */
  problems: string[];
  /** Every request for something not on disk (none, for a self-contained report). */
  network: string[];
  /** `ready` when every chart drew, `failed` otherwise. */
  charts: string;
}

/**
 * Opens an HTML file from disk in a new page, blocking (and recording) any request that would
 * leave the disk, and waits until its charts have drawn (or failed to).
 */
export async function openReport(browser: Chromium, file: string, opts: { colorScheme?: 'light' | 'dark'; viewport?: { width: number; height: number } } = {}): Promise<OpenedReport> {
  const page = await browser.context.newPage();
  if (opts.viewport) await page.setViewportSize(opts.viewport);
  await page.emulateMedia({ colorScheme: opts.colorScheme ?? 'light' });
  const problems: string[] = [];
  const network: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    network.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(file).href);
  const hasCharts = await page.locator('#faultline-charts').count();
  let charts = 'none';
  if (hasCharts > 0) {
    await page.locator('html[data-charts="ready"], html[data-charts="failed"]').waitFor({ state: 'attached', timeout: 30_000 });
    charts = (await page.locator('html').getAttribute('data-charts')) ?? '';
  }
  return { page, problems, network, charts };
}
