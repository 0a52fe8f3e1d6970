// Directory sources. `file` (and the snapshot of a `graph` source) are read by the config
// loader through directoryFromData; `graph` snapshots are written by syncGraphSnapshot.
export { directoryFromData, userFromData, attributeNames } from './file.ts';
export type { DirectoryFileData, DuplicateUser } from './file.ts';
export { DirectorySyncError, GRAPH_PERMISSION_ADVICE, GraphError, GraphPermissionError } from './errors.ts';
export { GraphClient, graphTokenProvider, type GraphClientOptions } from './graph.ts';
export { diffDirectories, readGraphDirectory, renderSnapshot, syncGraphSnapshot, writeFileAtomic } from './snapshot.ts';
export type { DirectoryChanges, GraphDirectory, SnapshotUser, SnapshotValidator, SyncOptions, SyncResult } from './snapshot.ts';
