// Paper-style reports from the store: model (pure) → document → Markdown, HTML, CSV, LaTeX, PDF.
export { buildReportModel, precisionOf, PRECISIONS } from './model.js';
export { builtinReports, contributedTables, loadReports, type ContributedTable, type ReportingStages } from './contributions.js';
export type { ReportModel, PipelineInfo, RunSummary, GroupModel, VariantModel, CutRow, DesignPoint, ValidationModel, RecommendationModel, ProvenanceModel } from './model.js';
export { buildDocument } from './document.js';
export type { ReportDocument, Block, Table, TableCell } from './document.js';
export { groupFigures } from './figures.js';
export type { Figure } from './figures.js';
export { renderSvg, svgToPng, svgToPdf, scopeSvgIds } from './render-figure.js';
export { renderHtml } from './html.js';
export { renderMarkdown } from './markdown.js';
export { renderLatexMain, tableTex } from './latex.js';
export { tidyTables, toCsv } from './csv.js';
export { escapeHtml, escapeLatex, escapeMarkdown, csvSafe } from './escape.js';
export { writeReport, parseList, FORMATS, FIGURE_FORMATS, MARKER } from './write.js';
export type { Format, FigureFormat, WriteOptions, WriteResult } from './write.js';
export { chromiumAvailable, chromiumPath, launchChromium, htmlFileToPdf } from './pdf.js';
