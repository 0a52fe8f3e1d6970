// The relay's view of the signing engine (src/mime): one import point, so the relay's files
// name the contract they rely on.
export { choiceFor, decisionFor, headerFacts, signMessage, WorkerPartSigner } from '../mime/index.ts';
export type { ChooseFn, MessageHeaders, PartSigner, SignOutcome, SigningChoice } from '../mime/index.ts';
