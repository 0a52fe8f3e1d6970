// The signing engine: streaming MIME signing with placement under the newest reply.
export { signMessage } from './sign.ts';
export type { ChooseFn, MessageHeaders, PassReason, SignOptions, SignOutcome, SigningChoice } from './types.ts';
export { parseAddressList, parseMailbox } from './headers.ts';
export { offlineChooser, NoTenantError, type OfflineEnvelope, type ChooserState } from './chooser.ts';
export { choiceFor, decisionFor } from './choice.ts';
export { headerFacts, type HeaderFacts } from './message-facts.ts';
export { WorkerPartSigner, type WorkerPartSignerOptions } from './offload.ts';
export type { PartSigner } from './parts.ts';
