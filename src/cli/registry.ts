/**
 * Every command the CLI has. A contract test walks this list: each command needs a
 * summary, an example, documented exit codes and a man page.
 */
import type { CommandSpec, GroupSpec } from './command.js';
import { verifyCommand } from './commands/verify.js';

export const commands: CommandSpec[] = [verifyCommand];

export const groups: GroupSpec[] = [];
