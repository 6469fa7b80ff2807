#!/usr/bin/env node
// The CDK CLI entry point (cdk.json: `npx tsx bin/app.ts`). The CLI synthesizes the app itself.
import { buildApp } from '../lib/app';
import { ConfigError } from '../lib/config';

try {
  buildApp();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  // A bad `-c` flag is the user's input, not a bug: one line, no stack trace, exit 1 (the CLI
  // prints this line and "Subprocess exited with error 1"). Exit now: the App would otherwise
  // synthesize its empty self when the process ends.
  process.stderr.write(`Error: ${error.message}\n`);
  process.exit(1);
}
