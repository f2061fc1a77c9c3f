export { startWorker, type RunningWorker } from './app.js';
export {
  createArchiveProcessor,
  type ArchiveResult,
  type ArchiveDeps,
} from './jobs/archive-file.js';
export { createObjectStore, type ObjectStore } from './storage/object-store.js';
export { createHostGuard } from './download-hosts.js';
