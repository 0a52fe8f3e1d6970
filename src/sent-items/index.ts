// Sent Items update: after the relay delivered a signed message, the unsigned copy in the
// sender's Sent Items is replaced by the signed one through Microsoft Graph, in the background
// (docs/sent-items.md). The relay tees the signed message into a SignedCopy and hands it to the
// queue; the queue keeps jobs in the state directory and works them through with a Replacer.
export { SignedCopy, type CopyAbandoned, type CopyResult, type SignedCopyOptions } from './copy.ts';
export {
  DEFAULT_SENT_ITEMS_BOUNDS,
  SentItemsQueue,
  jobKey,
  type Replacer,
  type SentItemsBounds,
  type SentItemsIntake,
  type SentItemsJob,
  type SentItemsQueueOptions,
  type SentItemsRequest,
} from './queue.ts';
export { SentItemsMetrics, type DropReason, type RetryReason } from './metrics.ts';
export { MailboxClient, MARKER_PROPERTY, MESSAGE_FLAGS_PROPERTY, SUBMIT_TIME_PROPERTY, DELIVERY_TIME_PROPERTY, odataString, type MailboxClientOptions, type SentItem } from './mailbox.ts';
export { replaceSentItem, outcomeOf, MAX_ATTACHMENT_BYTES, type ReplaceOutcome, type ReplaceRequest } from './replace.ts';
export { messageBody, type MessageBody } from './body.ts';
export { graphReplacer, type GraphReplacerOptions } from './graph.ts';
export { MailboxError } from './errors.ts';
