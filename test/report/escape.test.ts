// Escaping of hostile names for each output format.
import assert from 'node:assert/strict';
import { csvSafe, escapeHtml, escapeLatex, escapeMarkdown } from '../../src/report/index.js';
import { HOSTILE } from './fixtures.js';

describe('report escaping', function () {
  it('HTML: markup becomes text', function () {
    assert.equal(escapeHtml(HOSTILE.script), '&lt;script&gt;alert(1)&lt;/script&gt;');
    assert.equal(escapeHtml(`a"b'c&d`), 'a&quot;b&#39;c&amp;d');
    assert.equal(escapeHtml('x\u0000y\u001bz'), 'xyz');
  });

  it('LaTeX: no command, group, math or comment survives', function () {
    const out = escapeLatex(HOSTILE.latex);
    assert.equal(out, '\\textbackslash{}input\\{/etc/passwd\\}');
    for (const name of [...Object.values(HOSTILE), '100% $x$ #1 a_b ^~&', 'ünïcødé 中文 Δρ']) {
      const e = escapeLatex(name);
      // Every backslash starts one of the escapes we emit; no bare special character is left.
      const stripped = e.replace(/\\(textbackslash|textasciicircum|textasciitilde|textless|textgreater|textbar|textquotesingle|textasciigrave|textperiodcentered|ldots|textpm)\{\}/g, '')
        .replace(/\\[{}$&#%_]/g, '').replace(/\{''\}/g, '').replace(/\$\\(Delta|rho|tau|times|leq|geq|rightarrow|emptyset|star)\$|\$-\$/g, '');
      assert.doesNotMatch(stripped, /[\\{}$&#%_^~]/, `${name} → ${e}`);
      assert.doesNotMatch(e, /[^\x20-\x7e]/, 'ASCII only: pdflatex never meets an unknown character');
    }
    assert.equal(escapeLatex('café'), 'cafe');
  });

  it('Markdown: no table break, link, emphasis or HTML', function () {
    const pipe = escapeMarkdown(HOSTILE.pipe);
    assert.equal(pipe, '\\| pipe \\|');
    assert.equal(escapeMarkdown(HOSTILE.script), '&lt;script&gt;alert(1)&lt;/script&gt;');
    assert.equal(escapeMarkdown('[x](http://e) *b* _i_ `c` $m$ ~s~ line\nbreak'), '\\[x\\](http\\://e) \\*b\\* \\_i\\_ \\`c\\` \\$m\\$ \\~s\\~ line break');
    assert.equal(escapeMarkdown('# title'), '\\# title');
    assert.equal(escapeMarkdown('1. item'), '1\\. item');
    assert.equal(escapeMarkdown('- x'), '\\- x');
    assert.equal(escapeMarkdown('=HYPERLINK("http://x")'), '=HYPERLINK(&quot;http\\://x&quot;)');
    assert.equal(escapeMarkdown('---'), '\\---');
    assert.equal(escapeMarkdown('-1.5'), '-1.5');
    assert.equal(escapeMarkdown('0.625'), '0.625');
    assert.equal(escapeMarkdown('a & b'), 'a &amp; b');
  });

  it('CSV: formulas neutralised, numbers kept as numbers', function () {
    assert.equal(csvSafe(HOSTILE.formula), `'${HOSTILE.formula}`);
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) assert.equal(csvSafe(`${lead}1+2`), `'${lead}1+2`);
    assert.equal(csvSafe('cat'), 'cat');
    assert.equal(csvSafe(-0.25), -0.25);
    assert.equal(csvSafe(Number.NaN), null);
    assert.equal(csvSafe(null), null);
    assert.equal(csvSafe(true), true);
  });
});
