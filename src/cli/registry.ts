/**
 * Every command the CLI has. A contract test walks this list: each command needs a
 * summary, an example, documented exit codes and a man page.
 */
import type { CommandSpec, GroupSpec } from './command.js';
import { ciCommand } from './commands/ci.js';
import { codeCommands, codeGroup } from './commands/code.js';
import { checkpointCommand, proveCommand, verifyProofCommand } from './commands/checkpoint.js';
import { bundleCommand, inspectCommand, statsCommand, watchCommand } from './commands/evidence.js';
import { allowlistShowCommand, allowlistSignCommand, allowlistVerifyCommand, approveCommand, checkCommand, revokeCommand } from './commands/guard.js';
import { hookCommands, hookGroup, npmCommand } from './commands/hook.js';
import { keyGenerateCommand, keyListCommand, keyShowCommand } from './commands/key.js';
import { logCommand } from './commands/log.js';
import { completionCommand, doctorCommand } from './commands/meta.js';
import { trailExportCommand, trailImportCommand, trailRepairCommand, trailShowCommand } from './commands/trail.js';
import { verifyCommand } from './commands/verify.js';

export const commands: CommandSpec[] = [
  verifyCommand,
  ciCommand,
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
  ...codeCommands,
  approveCommand,
  revokeCommand,
  allowlistShowCommand,
  allowlistVerifyCommand,
  allowlistSignCommand,
  checkCommand,
  ...hookCommands,
  npmCommand,
  completionCommand,
  doctorCommand,
];

export const groups: GroupSpec[] = [
  { name: 'trail', summary: 'read, export, import and repair trails', manPage: 'stax-trail' },
  { name: 'key', summary: 'create and inspect Ed25519 signing keys', manPage: 'stax-key' },
  codeGroup,
  { name: 'allowlist', summary: 'show, verify and re-sign the install allowlist', manPage: 'stax-allowlist' },
  hookGroup,
];
