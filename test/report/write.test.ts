// Writing a report folder: every format from one model, hostile names made harmless in each,
// deterministic bytes, a main.tex that pdflatex compiles, atomic replacement (also when the
// writer is killed mid-way), and a clear report for a pipeline with nothing finished.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildReportModel, groupFigures, renderSvg, writeReport, MARKER } from '../../src/report/index.js';
import { HOSTILE, sweepFixture } from './fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const hostileCells = () => sweepFixture({
  pipeline: `p ${HOSTILE.pipe}`,
  classes: ['cat', HOSTILE.script, HOSTILE.latex, HOSTILE.formula, HOSTILE.pipe],
  pending: [['block3_conv3', 1]],
  failed: [['block4_pool', 0], ['block4_pool', 1]],
});
const hostileModel = () => buildReportModel(hostileCells(), { name: `${HOSTILE.pipe}${HOSTILE.latex}${HOSTILE.script}` });

function listTree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listTree(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`])).sort();
}

describe('report folder', function () {
  this.timeout(60_000);
  let tmp: string;
  before(() => { tmp = mkdtempSync(join(tmpdir(), 'sei-report-write-')); });
  after(() => { if (!process.env.SEI_KEEP_TEST_OUTPUT) rmSync(tmp, { recursive: true, force: true }); });

  let outA: string;
  it('writes Markdown, HTML, CSV and LaTeX with every hostile name neutralised', async function () {
    outA = join(tmp, 'a');
    const res = await writeReport(hostileModel(), { outDir: outA, formats: ['md', 'html', 'csv', 'tex'], figureFormats: ['svg', 'png'] });
    assert.equal(res.figures, 5);
    const files = listTree(outA);
    for (const f of ['report.md', 'report.html', 'csv/cuts.csv', 'csv/designs.csv', 'csv/validation.csv', 'csv/recommendations.csv', 'csv/provenance.csv',
      'csv/per_class_cui.csv', 'latex/main.tex', MARKER]) assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    assert.equal(files.filter((f) => /^figures\/.*\.svg$/.test(f)).length, 5);
    assert.equal(files.filter((f) => /^figures\/.*\.png$/.test(f)).length, 5);
    assert.equal(files.filter((f) => /^latex\/figures\/.*\.pdf$/.test(f)).length, 5);
    assert.ok(!files.some((f) => f.includes('tmp')));

    const html = readFileSync(join(outA, 'report.html'), 'utf8');
    assert.equal(html.match(/<script/g)!.length, 1, 'only the sorting script');
    assert.ok(!html.includes(HOSTILE.script));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!/https?:\/\/(?!www\.w3\.org)/.test(html.replace(/HYPERLINK\(&quot;http:\/\/x&quot;\)|HYPERLINK\(\\?"http:\/\/x\\?"\)|HYPERLINK\(&#34;http:\/\/x&#34;\)/g, '')), 'no external resource');
    assert.match(html, /Content-Security-Policy/);

    const md = readFileSync(join(outA, 'report.md'), 'utf8');
    assert.ok(!md.includes('<script'));
    assert.ok(md.includes('\\| pipe \\|'));
    // Every table row keeps its column count: no name broke a row apart.
    for (const block of md.split('\n\n').filter((b) => b.includes('\n| ---') || b.includes('\n|---'))) {
      const rows = block.split('\n').filter((l) => l.startsWith('|'));
      const count = (l: string) => l.replace(/\\\|/g, '').split('|').length;
      assert.ok(rows.every((r) => count(r) === count(rows[0]!)), block);
    }
    assert.match(md, /!\[[^\]]*\]\(figures\/[a-z0-9-]+-cui\.svg\)/);

    const csv = readFileSync(join(outA, 'csv/per_class_cui.csv'), 'utf8');
    assert.ok(csv.includes(`"'=HYPERLINK(""http://x"")"`), 'formula prefixed with an apostrophe');
    assert.ok(!/(^|,)=HYPERLINK/m.test(csv));
    const recs = readFileSync(join(outA, 'csv/recommendations.csv'), 'utf8');
    assert.ok(recs.includes(`'=HYPERLINK`));
    const cuts = readFileSync(join(outA, 'csv/cuts.csv'), 'utf8').trim().split('\n');
    const header = cuts[0]!.split(',');
    const failed = cuts.find((l) => l.includes('block4_pool'))!;
    const accIdx = header.indexOf('accuracy_mean');
    assert.equal(failed.split(',')[accIdx], '', 'a failed cut has an empty accuracy, not 0');
    assert.ok(failed.endsWith(',failed,0,2'));

    const tex = readFileSync(join(outA, 'latex/main.tex'), 'utf8') + listTree(join(outA, 'latex/tables')).map((f) => readFileSync(join(outA, 'latex/tables', f), 'utf8')).join('\n');
    assert.ok(!tex.includes('\\input{/etc/passwd}'));
    assert.ok(tex.includes('\\textbackslash{}input\\{/etc/passwd\\}'));
    assert.ok(!tex.includes('<script>'));
    assert.match(tex, /\\toprule[\s\S]*\\midrule[\s\S]*\\bottomrule/);
  });

  it('main.tex compiles with pdflatex', function () {
    const pdflatex = spawnSync('which', ['pdflatex'], { encoding: 'utf8' }).stdout.trim();
    if (!pdflatex) {
      console.log('      skipped: pdflatex not installed (apt-get install texlive-latex-base texlive-latex-recommended)');
      this.skip();
    }
    const dir = join(outA, 'latex');
    const r = spawnSync(pdflatex, ['-interaction=nonstopmode', '-halt-on-error', '-no-shell-escape', 'main.tex'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout.split('\n').filter((l) => l.startsWith('!') || l.includes('Error')).join('\n') || r.stdout.slice(-2000));
    assert.ok(existsSync(join(dir, 'main.pdf')));
    const text = spawnSync('pdftotext', [join(dir, 'main.pdf'), '-'], { encoding: 'utf8' });
    if (text.status === 0) {
      assert.ok(text.stdout.includes('\\input{/etc/passwd}'), 'the hostile name is printed as text');
      assert.ok(text.stdout.includes('Cut points'));
    }
  });

  it('is deterministic: the same store gives the same bytes', async function () {
    const outB = join(tmp, 'b');
    await writeReport(hostileModel(), { outDir: outB, formats: ['md', 'html', 'csv', 'tex'], figureFormats: ['svg', 'png'] });
    for (const f of listTree(outA).filter((x) => /\.(md|html|csv|tex|svg)$/.test(x))) {
      assert.equal(readFileSync(join(outB, f), 'utf8'), readFileSync(join(outA, f), 'utf8'), f);
    }
    const svg = readFileSync(join(outA, 'report.html'), 'utf8');
    assert.doesNotMatch(svg, /20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(?!\.000Z)/, 'no generation time');
    // Rendering a figure again in this process gives identical SVG (ids are per figure).
    const f = groupFigures(hostileModel().groups[0]!)[0]!;
    const warnings: string[] = [];
    assert.equal(await renderSvg(f.spec, f.id, warnings), await renderSvg(f.spec, f.id, warnings));
    assert.deepEqual(warnings, []);
    const ids = [...readFileSync(join(outA, 'report.html'), 'utf8').matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length, 'element ids are unique across the inlined figures');
  });

  it('replaces an existing report as a whole, and refuses to replace anything else', async function () {
    const out = join(tmp, 'replace');
    await writeReport(hostileModel(), { outDir: out, formats: ['md', 'csv'] });
    writeFileSync(join(out, 'stale.txt'), 'from an older report');
    const empty = buildReportModel([], { name: 'empty' });
    await writeReport(empty, { outDir: out, formats: ['md'] });
    assert.deepEqual(listTree(out), [MARKER, 'report.md']);
    assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('.replace.')), [], 'no temp or old folder left');

    const notReport = join(tmp, 'precious');
    mkdirSync(notReport);
    writeFileSync(join(notReport, 'thesis.tex'), 'do not delete');
    await assert.rejects(writeReport(empty, { outDir: notReport, formats: ['md'] }), /refusing to replace .*precious/);
    assert.equal(readFileSync(join(notReport, 'thesis.tex'), 'utf8'), 'do not delete');
  });

  it('a writer killed mid-way leaves the previous report whole; the next run cleans up', async function () {
    const out = join(tmp, 'crash');
    await writeReport(hostileModel(), { outDir: out, formats: ['md'] });
    const before = readFileSync(join(out, 'report.md'), 'utf8');
    const script = join(tmp, 'slow-writer.mjs');
    const fixtures = pathToFileURL(join(here, 'fixtures.js')).href;
    const report = pathToFileURL(join(here, '..', '..', 'src', 'report', 'index.js')).href;
    writeFileSync(script, `
      import { sweepFixture } from ${JSON.stringify(fixtures)};
      import { buildReportModel, writeReport } from ${JSON.stringify(report)};
      const cells = sweepFixture({ pipeline: 'other', classes: ['x', 'y'] });
      process.stdout.write('start\\n');
      await writeReport(buildReportModel(cells, { name: 'other' }), { outDir: ${JSON.stringify(out)}, formats: ['md', 'html', 'csv', 'tex'], figureFormats: ['svg', 'png', 'pdf'] });
      process.stdout.write('finished\\n');
    `);
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    await new Promise<void>((resolve) => {
      let poll: NodeJS.Timeout | undefined;
      child.on('exit', () => { if (poll) clearInterval(poll); resolve(); });
      child.stdout.on('data', (b: Buffer) => {
        output += b.toString();
        // Kill once it is busy writing its temp folder.
        if (output.includes('start') && !poll) {
          poll = setInterval(() => {
            const tmpDirs = readdirSync(tmp).filter((n) => n.startsWith('.crash.tmp-'));
            if (tmpDirs.length && existsSync(join(tmp, tmpDirs[0]!, 'figures'))) { clearInterval(poll); child.kill('SIGKILL'); }
          }, 5);
        }
      });
    });
    assert.equal(child.signalCode, 'SIGKILL', `the writer was killed (output: ${output})`);
    assert.ok(!output.includes('finished'), 'killed before the swap');
    assert.equal(readFileSync(join(out, 'report.md'), 'utf8'), before, 'the old report is untouched');
    assert.ok(readdirSync(tmp).some((n) => n.startsWith('.crash.tmp-')), 'the dead writer left its temp folder');
    await writeReport(buildReportModel([], { name: 'after' }), { outDir: out, formats: ['md'] });
    assert.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('.crash.')), [], 'leftovers of dead writers are removed');
  });

  it('renders every figure without a Vega warning, for several groups, settings and partial results', async function () {
    const a = sweepFixture({ classes: ['a', 'b'], swept: ['block1_pool', 'block2_pool', 'block3_pool'], pending: [['block2_pool', 0], ['block2_pool', 1]] })
      .map((c) => ({ ...c, coords: { ...c.coords, subset: 'ab' } }));
    const b = sweepFixture({ classes: ['c', 'd'], networks: ['wifi'], withRecommend: false }).map((c) => ({ ...c, coords: { ...c.coords, subset: 'cd' } }));
    const ratio4 = b.filter((c) => c.stage === 'evaluate' || c.stage === 'split-retrain')
      .map((c, i) => ({ ...c, id: `f${i.toString(16).padStart(63, '0')}`, coords: { ...c.coords, 'bottleneck.ratio': 4 } }));
    // A third subset with importance done and every retrained cell still pending.
    const c = sweepFixture({ classes: ['e', 'f'], swept: ['block1_pool', 'block2_pool'], pending: [['block1_pool', 0], ['block1_pool', 1], ['block2_pool', 0], ['block2_pool', 1]] })
      .map((x) => ({ ...x, coords: { ...x.coords, subset: 'ef' } }));
    const model = buildReportModel([...a, ...b, ...ratio4, ...c], { name: 'many' });
    assert.equal(model.groups.length, 3);
    const warnings: string[] = [];
    const ids: string[] = [];
    for (const g of model.groups) {
      for (const f of groupFigures(g)) {
        ids.push(f.id);
        const svg = await renderSvg(f.spec, f.id, warnings);
        assert.match(svg, /^<svg /);
      }
    }
    assert.deepEqual(warnings, []);
    assert.equal(new Set(ids).size, ids.length, `figure ids are unique: ${ids.join(', ')}`);
    assert.ok(ids.filter((id) => id.endsWith('-latency')).length >= 3, 'one latency figure per setting');
  });

  it('a pipeline with no finished cells gets a report that says so', async function () {
    const out = join(tmp, 'empty');
    const res = await writeReport(buildReportModel([], { name: 'nothing-yet', store: '/data/store' }), { outDir: out, formats: ['md', 'html', 'csv', 'tex'] });
    assert.equal(res.figures, 0);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(md, /No finished cells/);
    assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /No finished cells/);
    assert.match(readFileSync(join(out, 'latex/main.tex'), 'utf8'), /No finished cells/);
    assert.equal(readFileSync(join(out, 'csv/cuts.csv'), 'utf8').trim().split('\n').length, 1, 'header only');
    const pdflatex = spawnSync('which', ['pdflatex'], { encoding: 'utf8' }).stdout.trim();
    if (pdflatex) {
      const r = spawnSync(pdflatex, ['-interaction=nonstopmode', '-halt-on-error', '-no-shell-escape', 'main.tex'], { cwd: join(out, 'latex'), encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stdout.slice(-1500));
    }
  });
});
