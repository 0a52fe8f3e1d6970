// Directory sources. `file` (and the snapshot of a `graph` source) are read by the config
// loader through directoryFromData.
export { directoryFromData, userFromData, attributeNames } from './file.ts';
export type { DirectoryFileData, DuplicateUser } from './file.ts';
