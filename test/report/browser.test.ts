// The HTML report in a real browser: headless Chromium (Debian's chromium, driven by
// playwright-core) opens the file offline, and we check that every figure drew its marks, that
// the tables sort on a header click, that nothing was logged as an error (a CSP violation or a
// script error would be), and keep a screenshot in the test's temp folder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { buildReportModel, chromiumAvailable, chromiumPath, launchChromium, writeReport } from '../../src/report/index.js';
import { HOSTILE, sweepFixture } from './fixtures.js';

describe('report: HTML in headless Chromium', function () {
  this.timeout(60_000);
  let dir: string;
  let browser: Browser | undefined;
  let page: Page;
  const errors: string[] = [];
  const requests: string[] = [];

  before(async function () {
    if (!chromiumAvailable()) {
      // CI installs chromium (.ci/run); a developer machine without it cannot run this check.
      console.log(`      skipped: no Chromium at ${chromiumPath()} (apt-get install chromium)`);
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'sei-report-browser-'));
    const cells = sweepFixture({
      classes: ['cat', HOSTILE.script, HOSTILE.latex, HOSTILE.formula, HOSTILE.pipe],
      pending: [['block3_conv3', 1]],
      failed: [['block4_pool', 0], ['block4_pool', 1]],
    });
    const model = buildReportModel(cells, { name: `demo ${HOSTILE.script}` });
    await writeReport(model, { outDir: join(dir, 'report'), formats: ['html'] });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`console ${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('dialog', (d) => { errors.push(`dialog opened: ${d.message()}`); void d.dismiss(); });
    await page.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.request().url().startsWith('file:') ? route.continue() : route.abort();
    });
    await page.goto(pathToFileURL(join(dir, 'report', 'report.html')).href, { waitUntil: 'load' });
  });

  after(async function () {
    if (browser) await browser.close();
    if (dir && !process.env.SEI_KEEP_TEST_OUTPUT) rmSync(dir, { recursive: true, force: true });
  });

  it('draws the marks of every figure', async function () {
    const figures = await page.$$eval('figure[data-figure]', (els) => els.map((el) => ({
      id: el.getAttribute('data-figure'),
      svg: el.querySelectorAll('svg').length,
      symbols: el.querySelectorAll('g.mark-symbol path').length,
      lines: el.querySelectorAll('g.mark-line path').length,
      rules: el.querySelectorAll('g.mark-rule line').length,
      width: el.querySelector('svg')?.getBoundingClientRect().width ?? 0,
    })));
    assert.equal(figures.length, 5, JSON.stringify(figures));
    for (const f of figures) {
      assert.equal(f.svg, 1, `${f.id}: one inline SVG`);
      assert.ok(f.symbols + f.lines > 0, `${f.id} drew no points or lines: ${JSON.stringify(f)}`);
      assert.ok(f.width > 200, `${f.id} is laid out (${f.width}px wide)`);
    }
    const cui = figures.find((f) => f.id!.endsWith('-cui'))!;
    // 6 cut points on the curve, 2 candidate stars, 1 global-max diamond, accuracy points, failure crosses.
    assert.ok(cui.symbols >= 6 + 2 + 1, JSON.stringify(cui));
    const stars = await page.$$eval('figure[data-figure$="-cui"] g.mark-symbol path', (ps) => ps.filter((p) => (p.getAttribute('d') ?? '').split('L').length === 10).length);
    assert.equal(stars, 2, 'two candidate cuts starred');
  });

  it('sorts a table when its header is clicked, missing values last', async function () {
    const table = 'table[data-table$="-cuts"]';
    const column = async (n: number): Promise<(string | null)[]> =>
      page.$$eval(`${table} tbody tr`, (rows, i) => rows.map((r) => (r as HTMLTableRowElement).cells[i]!.getAttribute('data-sort')), n);
    const cutsBefore = await page.$$eval(`${table} tbody tr`, (rows) => rows.map((r) => (r as HTMLTableRowElement).cells[0]!.textContent));
    assert.deepEqual(cutsBefore, ['block1_pool', 'block2_conv2', 'block2_pool', 'block3_conv3', 'block3_pool', 'block4_pool']);
    const accuracyCol = await page.$$eval(`${table} thead th`, (ths) => ths.findIndex((th) => th.textContent!.startsWith('Accuracy')));
    assert.ok(accuracyCol > 0);

    await page.click(`${table} thead th:nth-child(${accuracyCol + 1}) button`);
    const asc = await column(accuracyCol);
    assert.equal(await page.getAttribute(`${table} thead th:nth-child(${accuracyCol + 1})`, 'aria-sort'), 'ascending');
    const ascNums = asc.filter((x) => x !== null).map(Number);
    assert.deepEqual(ascNums, [...ascNums].sort((a, b) => a - b));
    assert.equal(asc[asc.length - 1], null, 'the failed cut (no accuracy) sorts last');
    assert.equal(ascNums.length, 5);

    await page.click(`${table} thead th:nth-child(${accuracyCol + 1}) button`);
    const desc = await column(accuracyCol);
    const descNums = desc.filter((x) => x !== null).map(Number);
    assert.deepEqual(descNums, [...ascNums].reverse());
    assert.equal(desc[desc.length - 1], null, 'missing stays last when reversed');
    const cutsAfter = await page.$$eval(`${table} tbody tr`, (rows) => rows.map((r) => (r as HTMLTableRowElement).cells[0]!.textContent));
    assert.equal(cutsAfter[0], 'block2_pool', 'the most accurate cut comes first');
    assert.notDeepEqual(cutsAfter, cutsBefore);

    // Text column: the cut names sort by forward position (their sort key), both ways.
    await page.click(`${table} thead th:nth-child(1) button`);
    await page.click(`${table} thead th:nth-child(1) button`);
    const cutsDesc = await page.$$eval(`${table} tbody tr`, (rows) => rows.map((r) => (r as HTMLTableRowElement).cells[0]!.textContent));
    assert.deepEqual(cutsDesc, [...cutsBefore].reverse());
  });

  it('shows hostile names as text, runs no injected script, loads nothing, logs no error', async function () {
    const title = await page.title();
    assert.equal(title, `Report: demo ${HOSTILE.script}`);
    const scripts = await page.$$eval('script', (s) => s.length);
    assert.equal(scripts, 1, 'only the page\'s own sorting script');
    const text = await page.$eval('main', (m) => m.textContent ?? '');
    assert.ok(text.includes(HOSTILE.script) && text.includes(HOSTILE.latex) && text.includes(HOSTILE.formula));
    assert.deepEqual(requests.filter((u) => !u.startsWith('file:')), [], 'no network request');
    assert.deepEqual(errors, []);
  });

  it('saves a screenshot', async function () {
    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    assert.ok(statSync(shot).size > 20_000);
    if (process.env.SEI_KEEP_TEST_OUTPUT) console.log(`      screenshot: ${shot}`);
  });
});
