import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A real child process that appends 4 KiB to `file` every 2 ms until killed; resolves
 * once it has written its first chunk. Used to change a file while stax hashes it.
 */
export function startAppender(file: string): Promise<ChildProcess> {
  const code = `
    const fs = require('node:fs');
    const fd = fs.openSync(process.argv[1], 'a');
    const chunk = Buffer.alloc(4096, 1);
    fs.writeSync(fd, chunk);
    process.stdout.write('ready\\n');
    setInterval(() => fs.writeSync(fd, chunk), 2);
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', code, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.on('error', reject);
    child.stdout!.once('data', () => resolve(child));
  });
}
