import { backfillCommand } from './backfill.js';
import { exportCommand } from './export.js';
import { holdCommand } from './hold.js';
import type { Command } from './command.js';
import { doctorCommand } from './doctor.js';
import { instancesCommand } from './instances.js';
import { quarantineCommand } from './quarantine.js';
import { proveCommand } from './prove.js';
import { reportCommand } from './report.js';
import { sealCommand } from './seal.js';
import { retryFailedCommand } from './retry-failed.js';
import { statusCommand } from './status.js';
import { transcriptCommand } from './transcript.js';
import { verifyCommand } from './verify.js';

export const COMMANDS: readonly Command[] = [
  statusCommand,
  retryFailedCommand,
  quarantineCommand,
  verifyCommand,
  reportCommand,
  backfillCommand,
  sealCommand,
  proveCommand,
  transcriptCommand,
  exportCommand,
  holdCommand,
  instancesCommand,
  doctorCommand,
];
