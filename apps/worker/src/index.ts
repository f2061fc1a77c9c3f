export { startWorker, type RunningWorker } from './app.js';
export {
  createArchiveProcessor,
  type ArchiveResult,
  type ArchiveDeps,
} from './jobs/archive-file.js';
export { createObjectStore, type ObjectStore } from './storage/s3.js';
export { createHostGuard } from './download-hosts.js';
