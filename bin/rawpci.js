#!/usr/bin/env node
// rawpci command-line entry: runs the compiled CLI and exits with its code.
import { main } from '../dist/src/cli/main.js';

// `rawpci list | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.exitCode = await main(process.argv);
