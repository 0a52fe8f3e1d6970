// Directory sources. `file` (and the snapshot of a `graph` source) are read by the config
// loader through directoryFromData; `graph` snapshots are written by syncGraphSnapshot.
export { directoryFromData, userFromData, attributeNames } from './file.ts';
export type { DirectoryFileData, DuplicateUser } from './file.ts';
export {
  DEFAULT_GRAPH_RETRY,
  DEFAULT_GRAPH_URL,
  DirectorySyncError,
  GRAPH_PERMISSION_ADVICE,
  GRAPH_SCOPE,
  GraphClient,
  GraphError,
  GraphPermissionError,
  diffDirectories,
  graphTokenProvider,
  readGraphDirectory,
  renderSnapshot,
  syncGraphSnapshot,
  writeFileAtomic,
} from './graph.ts';
export type {
  DirectoryChanges,
  GraphClientOptions,
  GraphDirectory,
  GraphRetryPolicy,
  SnapshotUser,
  SnapshotValidator,
  SyncOptions,
  SyncResult,
} from './graph.ts';
