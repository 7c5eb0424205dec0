/**
 * Every command the CLI has. A contract test walks this list: each command needs a
 * summary, an example, documented exit codes and a man page.
 */
import type { CommandSpec, GroupSpec } from './command.js';
import { checkpointCommand, proveCommand, verifyProofCommand } from './commands/checkpoint.js';
import { bundleCommand, inspectCommand, statsCommand, watchCommand } from './commands/evidence.js';
import { keyGenerateCommand, keyListCommand, keyShowCommand } from './commands/key.js';
import { logCommand } from './commands/log.js';
import { trailExportCommand, trailImportCommand, trailRepairCommand, trailShowCommand } from './commands/trail.js';
import { verifyCommand } from './commands/verify.js';

export const commands: CommandSpec[] = [
  verifyCommand,
  logCommand,
  trailShowCommand,
  trailExportCommand,
  trailImportCommand,
  trailRepairCommand,
  keyGenerateCommand,
  keyListCommand,
  keyShowCommand,
  checkpointCommand,
  proveCommand,
  verifyProofCommand,
  inspectCommand,
  statsCommand,
  watchCommand,
  bundleCommand,
];

export const groups: GroupSpec[] = [
  { name: 'trail', summary: 'read, export, import and repair trails', manPage: 'stax-trail' },
  { name: 'key', summary: 'create and inspect Ed25519 signing keys', manPage: 'stax-key' },
];
