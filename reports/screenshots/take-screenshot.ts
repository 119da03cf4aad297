// Takes a full-page screenshot of an HTML report in headless Chromium (light mode), for the README.
//   node reports/screenshots/take-screenshot.ts <report.html> <out.png> [--width 1280] [--dark]
import { parseArgs } from 'node:util';
import { launchChromium, openReport } from '../testing/chromium.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { width: { type: 'string', default: '1280' }, dark: { type: 'boolean', default: false } } });
const [file, out] = positionals;
if (!file || !out) throw new Error('usage: take-screenshot.ts <report.html> <out.png> [--width 1280] [--dark]');
const browser = await launchChromium();
try {
  const report = await openReport(browser, file, { colorScheme: values.dark ? 'dark' : 'light', viewport: { width: Number(values.width), height: 900 } });
  if (report.charts !== 'ready' || report.problems.length > 0) throw new Error(`the report did not draw cleanly: charts ${report.charts}; ${report.problems.join('; ')}`);
  await report.page.screenshot({ path: out, fullPage: true });
  process.stdout.write(`screenshot: ${out}\n`);
} finally {
  await browser[Symbol.asyncDispose]();
}
