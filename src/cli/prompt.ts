/**
 * Asking before a destructive step. Never prompts when stdin is not a terminal or CI is
 * set: it explains what flag to pass instead, so a pipeline never hangs on a question.
 */
import { StaxError } from '../errors.js';
import type { RunContext } from './command.js';

export function canPrompt(ctx: RunContext): boolean {
  const ci = ctx.io.env.CI;
  return ctx.io.stdin.isTTY === true && ctx.io.stdout.isTTY === true && (ci === undefined || ci === '' || ci === 'false' || ci === '0');
}

export async function confirm(ctx: RunContext, message: string, yesFlag: string): Promise<boolean> {
  if (!canPrompt(ctx)) {
    throw new StaxError('NOT_A_TTY', `${message} Not asking: this is not an interactive terminal (or CI is set); pass ${yesFlag} to proceed`);
  }
  const { confirm: ask } = await import('@inquirer/prompts');
  return ask({ message, default: false }, { input: ctx.io.stdin, output: ctx.io.stdout });
}
