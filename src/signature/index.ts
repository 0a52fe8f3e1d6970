// Signature rendering: Handlebars templates (signature, banner, disclaimer) to HTML and plain
// text. Templates are checked and compiled once, off the hot path; rendering never reaches
// files, the environment or prototypes, and every value is HTML-escaped in HTML output.
import type { Template } from '../model/index.ts';
import { compileTemplate, type RenderFunction, type TemplateContext } from './template.ts';
import { htmlToText } from './text.ts';

export { analyzeTemplate, compileTemplate, TemplateCompileError, editDistance, closestName } from './template.ts';
export type { TemplateAnalysis, TemplateImageReference, TemplateProblem, TemplateVariable, TemplateKind, TemplateContext, RenderFunction } from './template.ts';
export { htmlToText, decodeEntities } from './text.ts';
export { HELPERS, HELPER_NAMES, formatPhone, telUri, safeUrl, formatDate } from './helpers.ts';

export interface RenderedBlock {
  readonly html: string;
  readonly text: string;
}

/** A template ready to render: HTML, and text either from the .txt.hbs twin or derived from the HTML. */
export interface CompiledTemplate {
  readonly name: string;
  render(context: TemplateContext): RenderedBlock;
}

export function compileSignatureTemplate(template: Template): CompiledTemplate {
  const html = compileTemplate(template.html, 'html');
  const text: RenderFunction | undefined = template.text !== undefined ? compileTemplate(template.text, 'text') : undefined;
  return Object.freeze({
    name: template.name,
    render(context: TemplateContext): RenderedBlock {
      const h = html(context);
      return { html: h, text: text ? text(context).replace(/\r\n?/g, '\n').replace(/^\n+|\s+$/g, '') : htmlToText(h) };
    },
  });
}

/** Joins rendered blocks: HTML concatenated as is, text blocks separated by a blank line. */
export function joinBlocks(blocks: readonly RenderedBlock[]): RenderedBlock {
  if (blocks.length === 1) return blocks[0]!;
  let html = '';
  let text = '';
  for (const b of blocks) {
    html += b.html;
    if (b.text !== '') text = text === '' ? b.text : `${text}\n\n${b.text}`;
  }
  return { html, text };
}
