#!/usr/bin/env node
// One program, two names: `stax` and `tracehound` both land here; the CLI reads argv[1]
// to know which name it was called by.
//
// `stax log` runs once per event in scripts, so it skips the full CLI (commander and every
// command's module) when its arguments are the plain kind; see src/cli/fast-log.ts.
// STAX_NO_FAST_PATH=1 turns that off (tests compare both paths).
if (process.argv[2] === 'log' && !process.env.STAX_NO_FAST_PATH) {
  const { runLogFastFromProcess } = await import('../dist/cli/fast-log.js');
  if (!(await runLogFastFromProcess())) await runFull();
} else {
  await runFull();
}

async function runFull() {
  const { runFromProcess } = await import('../dist/cli/main.js');
  runFromProcess();
}
