// Directory sources. `file` (and the snapshot of a `graph` source) are read by the config
// loader through directoryFromData, with the tenant's overrides merged by mergeOverrides;
// `graph` snapshots are written by syncGraphSnapshot, reading only what directoryUse says is used.
export { directoryFromData, userFromData, attributeNames, mergeOverrides } from './file.ts';
export type { AddressClaim, AddressConflict, DirectoryFileData, DuplicateUser, MergedDirectory } from './file.ts';
export { DirectorySyncError, GRAPH_PERMISSION_ADVICE, MAILBOX_PERMISSION_ADVICE, GraphError, GraphPermissionError } from './errors.ts';
export { GraphClient, graphTokenProvider, type GraphClientOptions } from './graph.ts';
export {
  GRAPH_ATTRIBUTES,
  describeSkipped,
  diffDirectories,
  graphUserFields,
  readGraphDirectory,
  renderSnapshot,
  syncGraphSnapshot,
  writeFileAtomic,
} from './snapshot.ts';
export type {
  DirectoryChanges,
  GraphDirectory,
  GraphReadOptions,
  SkippedCounts,
  SnapshotUser,
  SnapshotValidator,
  SyncOptions,
  SyncResult,
} from './snapshot.ts';
export { EVERY_ATTRIBUTE, directoryUse, type DirectoryUse } from './uses.ts';
