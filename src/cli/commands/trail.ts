import { resolve } from 'node:path';
import type { CommandSpec } from '../command.js';
import { Exit } from '../../errors.js';
import type { TornTail } from '../../trail/repair.js';

export const trailRepairCommand: CommandSpec = {
  name: 'trail repair',
  summary: 'remove a torn last line left by a crashed writer',
  description:
    'A writer killed in the middle of an append can leave an incomplete last line. repair removes exactly those bytes ' +
    '(or, when they already form a complete entry that lost only its newline, adds the newline). It never removes a complete entry, ' +
    'asks before changing the file, and works under the trail lock.',
  args: ['[file]'],
  options: [{ flags: '-y, --yes', description: 'repair without asking (for scripts)' }],
  examples: [
    { cmd: 'trail repair .stax/trail.jsonl', says: 'show the torn bytes and ask before removing them' },
    { cmd: 'trail repair --yes --json', says: 'repair the default trail in a script' },
  ],
  exitCodes: { 0: 'nothing to repair, or repaired', 1: 'not repaired (declined)', 2: 'unreadable file, or not a terminal and no --yes' },
  manPage: 'stax-trail',
  async run([file], options, ctx) {
    const { findTornTail, repairTornTail } = await import('../../trail/repair.js');
    const { defaultTrailPath } = await import('../../trail/paths.js');
    const { confirm } = await import('../prompt.js');
    const path = file === undefined ? defaultTrailPath(ctx.io.cwd) : resolve(ctx.io.cwd, file);
    const tail = findTornTail(path);
    const render = (r: TornTail & { repaired: boolean }, ui: import('../output.js').Ui): void => {
      if (r.action === 'none') ui.out(`nothing to repair: ${ui.safe(r.file)} ends with a complete line`);
      else if (!r.repaired) ui.out(`not repaired: ${ui.safe(r.file)} still ends with ${r.tornBytes} torn bytes`);
      else if (r.action === 'truncate') ui.out(`removed ${r.tornBytes} torn bytes at offset ${r.offset} from ${ui.safe(r.file)}`);
      else ui.out(`added the missing newline after a complete last entry in ${ui.safe(r.file)}`);
    };
    if (tail.action === 'none') return { result: { ...tail, repaired: false }, exitCode: Exit.OK, render };
    if (options.yes !== true) {
      const what = tail.action === 'truncate' ? `Remove ${tail.tornBytes} torn bytes ("${ctx.ui.safe(tail.preview, 80)}") from the end of ${path}?` : `Add the missing newline after the complete last entry of ${path}?`;
      const yes = await confirm(ctx, what, '--yes');
      if (!yes) return { result: { ...tail, repaired: false }, exitCode: Exit.CHECK_FAILED, render };
    }
    const done = await repairTornTail(tail);
    return { result: { ...done, repaired: true }, exitCode: Exit.OK, render };
  },
};
