export { runCli, globalHelp, type CliIo, type DepsFactory } from './cli.js';
export { createDeps, closeDeps, type CliDeps } from './deps.js';
export { EXIT } from './commands/command.js';
export { collectStatus, formatStatus, type StatusReport } from './commands/status.js';
export { retryFailed, type RetryOptions, type RetryResult } from './commands/retry-failed.js';
export { listQuarantine, replayQuarantine, type ReplayOutcome } from './commands/quarantine.js';
export {
  verifyArchive,
  type VerifyOptions,
  type VerifyResult,
  type VerifyFinding,
} from './commands/verify.js';
export {
  buildReport,
  reportCsv,
  type Report,
  type ReportOptions,
  type ReportRow,
} from './commands/report.js';
export { runBackfill } from './commands/backfill.js';
