#!/usr/bin/env node
// The `forkscope` command: runs a program under a hub (see `forkscope --help`).
require('../dist/cli.cjs');
