// Escaping for every output format. Names in a report come from datasets and configs (class
// folders, cut names, pipeline names) and must come out as text, never as markup or code.

// Control characters other than tab and newline have no business in a report.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g;

export function escapeHtml(text: string): string {
  return text.replace(CONTROL, '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const LATEX_SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\{',
  '}': '\\}',
  '$': '\\$',
  '&': '\\&',
  '#': '\\#',
  '%': '\\%',
  '_': '\\_',
  '^': '\\textasciicircum{}',
  '~': '\\textasciitilde{}',
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
  '"': "{''}", // OT1 has no straight double quote; pdflatex without extra font packages
  '`': '\\textasciigrave{}',
  "'": '\\textquotesingle{}',
  '\n': ' ',
  '\r': ' ',
  '\t': ' ',
};

/** Characters pdflatex's default UTF-8 input set handles without extra packages. */
const LATEX_UNICODE: Record<string, string> = {
  '·': '\\textperiodcentered{}', '—': '---', '–': '--', '…': '\\ldots{}', '×': '$\\times$', 'ρ': '$\\rho$', 'τ': '$\\tau$',
  '±': '\\textpm{}', 'Δ': '$\\Delta$', '−': '$-$', '★': '$\\star$', '↕': '', '≤': '$\\leq$', '≥': '$\\geq$', '→': '$\\rightarrow$', '∅': '$\\emptyset$', '‘': '`', '’': "'", '“': '``', '”': "''",
};

/**
 * Text for LaTeX: every special character escaped; letters with accents kept as their base
 * letter plus a LaTeX accent-free fallback, and any other non-ASCII character replaced by '?'
 * so that an unusual class name can never stop main.tex from compiling.
 */
export function escapeLatex(text: string): string {
  let out = '';
  for (const ch of text.replace(CONTROL, '')) {
    if (ch in LATEX_SPECIAL) out += LATEX_SPECIAL[ch];
    else if (ch in LATEX_UNICODE) out += LATEX_UNICODE[ch];
    else if (ch.charCodeAt(0) < 128) out += ch;
    else {
      const base = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      out += /^[A-Za-z0-9 ]+$/.test(base) ? base : '?';
    }
  }
  return out;
}

/**
 * Text for GitHub Markdown, safe inside a table cell or paragraph: characters that open inline
 * markup (emphasis, code, links, math, strike-through, table pipes) are backslash-escaped, block
 * markers are escaped at the start of the text, autolinks are broken, and HTML-significant
 * characters become entities (after the backslashes, so an entity is never itself escaped).
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(CONTROL, '')
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_[\]|~$]/g, (c) => `\\${c}`)
    .replace(/:\/\//g, '\\://')
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}\\.`)
    .replace(/^(\s*)(#{1,6}|[+-])(?=\s|$)/, '$1\\$2')
    .replace(/^(\s*\d{1,9})([.)])(?=\s|$)/, '$1\\$2')
    .replace(/^(\s*)([-=])(?=[-=\s]*$)/, '$1\\$2')
    .replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/**
 * A CSV cell a spreadsheet will not execute: text starting with =, +, -, @, tab or CR is
 * prefixed with an apostrophe (the OWASP recommendation). Numbers are written as numbers.
 */
export function csvSafe(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value;
  const text = (typeof value === 'string' ? value : JSON.stringify(value)).replace(CONTROL, '');
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}
