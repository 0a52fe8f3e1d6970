// The relay's view of the signing engine (src/mime): one import point, so the relay's files
// name the contract they rely on.
export { signMessage } from '../mime/index.ts';
export type { ChooseFn, MessageHeaders, SignOutcome, SigningChoice } from '../mime/index.ts';
