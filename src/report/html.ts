// One self-contained HTML file: inline CSS, inline SVG figures, sortable tables driven by a small
// inline script. It loads nothing from the network; a Content-Security-Policy allows only the
// page's own script (by hash), so even a name that slipped past escaping could not run.
import { createHash } from 'node:crypto';
import type { Block, ReportDocument, Table, TableCell } from './document.js';
import { escapeHtml as h } from './escape.js';

const STYLE = `
:root { color-scheme: light; }
body { font-family: "DejaVu Sans", Verdana, system-ui, sans-serif; margin: 0; color: #1d1d1d; background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 1.6rem; margin: 0 0 .4rem; }
h2 { font-size: 1.25rem; margin: 2.2rem 0 .6rem; border-bottom: 1px solid #ddd; padding-bottom: .25rem; }
h3 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
p, li { line-height: 1.45; font-size: .92rem; }
figure { margin: 1.2rem 0; overflow-x: auto; }
figure .svg svg { max-width: 100%; height: auto; }
figcaption { font-size: .85rem; color: #444; max-width: 900px; }
.table-wrap { overflow-x: auto; margin: .8rem 0 1.4rem; }
table { border-collapse: collapse; font-size: .82rem; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; caption-side: top; }
caption small { display: block; font-weight: normal; color: #555; max-width: 900px; }
th, td { padding: .28rem .55rem; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
thead th { border-top: 2px solid #333; border-bottom: 1.5px solid #333; background: #fafafa; white-space: nowrap; }
tbody tr:last-child td { border-bottom: 2px solid #333; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.missing { color: #888; font-style: italic; }
td.failed { color: #b00020; font-style: italic; }
td.na { color: #aaa; text-align: center; }
th button { all: unset; cursor: pointer; }
th button::after { content: " \\2195"; color: #aaa; font-size: .75em; }
th[aria-sort="ascending"] button::after { content: " \\25B2"; color: #333; }
th[aria-sort="descending"] button::after { content: " \\25BC"; color: #333; }
th button:focus-visible { outline: 2px solid #4c78a8; }
nav.toc { font-size: .85rem; margin: .6rem 0 1.2rem; }
nav.toc a { margin-right: 1rem; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; } figure, tr { break-inside: avoid; } th button::after { content: ""; } }
`;

// Sorting: click a header to order the rows by that column, again to reverse. Cells carry the
// value to sort by in data-sort; cells without one (missing values) always stay last.
const SCRIPT = `(function () {
  'use strict';
  var tables = document.querySelectorAll('table.sortable');
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector('button');
      if (!button) return;
      button.addEventListener('click', function () {
        var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
        Array.prototype.forEach.call(heads, function (other) { other.setAttribute('aria-sort', 'none'); });
        th.setAttribute('aria-sort', dir);
        var numeric = th.getAttribute('data-type') === 'num';
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-sort');
          var y = b.cells[col].getAttribute('data-sort');
          if (x === null || y === null) return (x === null ? 1 : 0) - (y === null ? 1 : 0);
          var c = numeric ? parseFloat(x) - parseFloat(y) : x.localeCompare(y);
          return dir === 'ascending' ? c : -c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
})();`;

/** Sort numerically when every value to sort by is a number (e.g. a cut's forward position). */
function columnIsNumeric(t: Table, col: number): boolean {
  const vals = t.rows.map((r) => r[col]?.sort).filter((v) => v !== null && v !== undefined);
  return vals.length > 0 && vals.every((v) => typeof v === 'number');
}

function cellHtml(c: TableCell, rightAligned: boolean): string {
  const classes = [rightAligned && !c.kind ? 'num' : '', c.kind ?? ''].filter(Boolean).join(' ');
  const attrs = [
    classes ? ` class="${classes}"` : '',
    c.sort !== null ? ` data-sort="${h(String(c.sort))}"` : '',
    c.title ? ` title="${h(c.title)}"` : '',
  ].join('');
  return `<td${attrs}>${h(c.text)}</td>`;
}

function tableHtml(t: Table): string {
  const numeric = t.columns.map((_, i) => columnIsNumeric(t, i));
  const head = t.columns.map((c, i) => `<th scope="col" data-type="${numeric[i] ? 'num' : 'text'}" aria-sort="none"><button type="button">${h(c.label)}</button></th>`).join('');
  const body = t.rows.map((r) => `<tr>${r.map((c, i) => cellHtml(c, t.columns[i]?.numeric ?? false)).join('')}</tr>`).join('\n');
  const caption = `<caption>${h(t.title)}${t.caption ? `<small>${h(t.caption)}</small>` : ''}</caption>`;
  return `<div class="table-wrap"><table class="sortable" id="table-${h(t.id)}" data-table="${h(t.id)}">${caption}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table></div>`;
}

function blockHtml(b: Block, svgs: Map<string, string>, figNo: Map<string, number>): string {
  switch (b.kind) {
    case 'heading': return `<h${b.level} id="${h(b.id)}">${h(b.text)}</h${b.level}>`;
    case 'paragraph': return `<p>${h(b.text)}</p>`;
    case 'list': return `<ul>${b.items.map((i) => `<li>${h(i)}</li>`).join('')}</ul>`;
    case 'table': return tableHtml(b.table);
    case 'figure': {
      const svg = svgs.get(b.figure.id);
      const n = figNo.get(b.figure.id);
      // The SVG comes from Vega's renderer, which escapes every text it draws.
      return `<figure id="figure-${h(b.figure.id)}" data-figure="${h(b.figure.id)}"><div class="svg">${svg ?? '<p>figure missing</p>'}</div>`
        + `<figcaption><strong>Figure ${n}.</strong> ${h(b.figure.title)}. ${h(b.figure.caption)}</figcaption></figure>`;
    }
  }
}

export function renderHtml(doc: ReportDocument, svgs: Map<string, string>): string {
  const figNo = new Map(doc.figures.map((f, i) => [f.id, i + 1]));
  const scriptHash = createHash('sha256').update(SCRIPT).digest('base64');
  const csp = `default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-${scriptHash}'`;
  const toc = doc.blocks.filter((b): b is Extract<Block, { kind: 'heading' }> => b.kind === 'heading' && b.level === 2)
    .map((b) => `<a href="#${h(b.id)}">${h(b.text)}</a>`).join('');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(doc.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${h(doc.title)}</h1>
${toc ? `<nav class="toc">${toc}</nav>` : ''}
${doc.blocks.map((b) => blockHtml(b, svgs, figNo)).join('\n')}
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
