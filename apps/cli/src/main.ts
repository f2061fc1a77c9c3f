#!/usr/bin/env node
import { runCli } from './cli.js';

// The composition root: everything else is in runCli, which tests call in-process.
process.exitCode = await runCli(process.argv.slice(2), process.env, {
  out: process.stdout,
  err: process.stderr,
});
