// Starts the signing worker from the TypeScript sources: a worker thread does not inherit the
// tsx loader that bin/sigops registers, so it registers its own (as bin/sigops does).
import { register } from 'tsx/esm/api';

register();
await import('./sign-worker.ts');
