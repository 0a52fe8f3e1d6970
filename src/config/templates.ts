// Phase 2 of loading, for templates: read each template's files and analyse them (syntax,
// helpers, unsafe links, the user attributes they use).
import { join } from 'node:path';
import { analyzeTemplate, type TemplateImageReference, type TemplateVariable } from '../signature/index.ts';
import { TOP, type Diagnostics } from './diagnostics.ts';
import type { TemplateFiles } from './discover.ts';
import { MAX_FILE_BYTES, readTextFile } from './source.ts';

/** A user attribute a template uses, and where. */
export type TemplateUse = TemplateVariable & { readonly file: string };

export interface LoadedTemplate extends TemplateFiles {
  readonly html?: string;
  readonly text?: string;
  /** Read and free of errors: only such templates end up in a ConfigRepo. */
  readonly valid: boolean;
  readonly variables: readonly TemplateUse[];
  /** Every {{image "…"}} call, and where (images.ts checks each names a usable image). */
  readonly images: readonly (TemplateImageReference & { readonly file: string })[];
}

async function readTemplate(root: string, t: TemplateFiles, out: Diagnostics): Promise<LoadedTemplate> {
  let valid = true;
  const sources: { html?: string; text?: string } = {};
  const variables: TemplateUse[] = [];
  const images: (TemplateImageReference & { readonly file: string })[] = [];
  for (const kind of ['html', 'text'] as const) {
    const file = kind === 'html' ? t.htmlFile : t.textFile;
    if (!file) continue;
    const source = await readTextFile(join(root, file), file, MAX_FILE_BYTES, out);
    if (source === undefined) { valid = false; continue; }
    const analysis = analyzeTemplate(source, kind);
    for (const p of analysis.problems) out.error(file, p, p.code, p.message);
    for (const w of analysis.warnings) out.warn(file, w, w.code, w.message);
    if (analysis.problems.length > 0) valid = false;
    sources[kind] = source;
    variables.push(...analysis.userAttributes.map((v) => ({ ...v, file })));
    images.push(...(analysis.images ?? []).map((r) => ({ ...r, file })));
  }
  if (!t.htmlFile) {
    out.error(t.textFile!, TOP, 'template-missing-html', `${t.textFile} has no HTML twin: add templates/${t.name}.html.hbs (a .txt.hbs only supplies the plain-text version)`);
    valid = false;
  }
  return { ...t, ...sources, valid, variables, images };
}

/** Every template, by name. */
export async function readTemplates(root: string, files: readonly TemplateFiles[], out: Diagnostics): Promise<ReadonlyMap<string, LoadedTemplate>> {
  const read = await Promise.all(files.map((t) => readTemplate(root, t, out)));
  return new Map(read.map((t) => [t.name, t]));
}
