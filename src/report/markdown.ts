// GitHub-flavoured Markdown, with the figures as files beside it (figures/<id>.svg).
import type { Block, ReportDocument, Table } from './document.js';
import { escapeMarkdown as md } from './escape.js';

function tableMd(t: Table): string {
  const numeric = t.columns.map((c) => c.numeric);
  const head = `| ${t.columns.map((c) => md(c.label)).join(' | ')} |`;
  const rule = `|${t.columns.map((_, i) => (numeric[i] ? ' ---: ' : ' --- ')).join('|')}|`;
  const body = t.rows.map((r) => `| ${r.map((c) => (c.kind ? `*${md(c.text)}*` : md(c.text))).join(' | ')} |`);
  const out = [`**${md(t.title)}**`, ''];
  if (t.caption) out.push(md(t.caption), '');
  out.push(head, rule, ...body);
  return out.join('\n');
}

function blockMd(b: Block, figurePath: (id: string) => string, figNo: Map<string, number>): string {
  switch (b.kind) {
    case 'heading': return `${'#'.repeat(b.level)} ${md(b.text)}`;
    case 'paragraph': return md(b.text);
    case 'list': return b.items.map((i) => `- ${md(i)}`).join('\n');
    case 'table': return tableMd(b.table);
    case 'figure':
      return `![${md(b.figure.title)}](${figurePath(b.figure.id)})\n\n*Figure ${figNo.get(b.figure.id)}. ${md(b.figure.caption)}*`;
  }
}

/** `figurePath` maps a figure id to the relative path of its image file (ids are file-safe). */
export function renderMarkdown(doc: ReportDocument, figurePath: (id: string) => string): string {
  const figNo = new Map(doc.figures.map((f, i) => [f.id, i + 1]));
  return `# ${md(doc.title)}\n\n${doc.blocks.map((b) => blockMd(b, figurePath, figNo)).join('\n\n')}\n`;
}
