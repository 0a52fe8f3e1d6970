// Types of scripts/build-action.mjs for the TypeScript tests that call it.
import type { BuildResult } from 'esbuild';

export declare const BANNER: string;
export declare function buildAction(outfile?: string): Promise<BuildResult<{ metafile: true }>>;
