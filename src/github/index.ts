// The GitHub side of sigops: the action's flow (runAction), the one plan comment per pull
// request, annotations, the job summary and the GitHub REST client with explained errors.
export { runAction, EXIT, type RunOptions } from './run.ts';
export type { SigopsServices, LoadResult, ApplyOutcome } from './port.ts';
export { mapCredentialInputs } from './credentials.ts';
export { readContext, getInput, getBooleanInput, ActionInputError, type GitHubContext, type Env } from './env.ts';
export { eventFacts, chooseCommand, type ActionCommand, type EventFacts } from './events.ts';
export { createClient, explainGitHubError, GitHubApiError, type GitHubClient } from './client.ts';
export {
  PLAN_MARKER,
  upsertPlanComment,
  findPlanComment,
  mergedPlanChecksum,
  checksumFromComment,
  type CommentResult,
} from './comment.ts';
export { formatAnnotation, repoRelativePath, type Annotation } from './annotations.ts';
export { fitMarkdown, COMMENT_LIMIT } from './markdown.ts';
export { stepSummary, STEP_SUMMARY_LIMIT } from './summary.ts';
export { changedRules, type ChangedRule, type ChangedFile } from './changes.ts';
export { previewRules, renderPreviews, type RulePreview } from './preview.ts';
