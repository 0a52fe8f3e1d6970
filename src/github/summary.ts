// The job summary: markdown appended to the file named by GITHUB_STEP_SUMMARY, which GitHub
// renders on the run's page. GitHub refuses a step summary over 1 MiB, so it is shortened first.
import { appendFile } from 'node:fs/promises';
import { fitMarkdown } from './markdown.ts';

/** GitHub's limit for one step's summary (1024 KiB). */
export const STEP_SUMMARY_LIMIT = 1024 * 1024;

export interface SummaryWriter {
  /** Appends markdown; a no-op outside Actions (no GITHUB_STEP_SUMMARY). */
  write(markdown: string): Promise<void>;
}

export function stepSummary(path: string | undefined): SummaryWriter {
  let written = 0;
  return {
    async write(markdown: string): Promise<void> {
      if (!path) return;
      let text = markdown.endsWith('\n') ? markdown : markdown + '\n';
      // The limit is in bytes, the fitter counts characters: shrink until the bytes fit.
      let room = STEP_SUMMARY_LIMIT - written;
      while (Buffer.byteLength(text) > STEP_SUMMARY_LIMIT - written && room > 0) {
        room = Math.floor(room * 0.8);
        text = fitMarkdown(markdown, room, 'a job summary is limited to 1 MiB', 'The run log has the rest.');
      }
      written += Buffer.byteLength(text);
      await appendFile(path, text, 'utf8');
    },
  };
}
