#!/usr/bin/env node
// One program, two names: `stax` and `tracehound` both land here; the CLI reads argv[1]
// to know which name it was called by.
import { runFromProcess } from '../dist/cli/main.js';

runFromProcess();
