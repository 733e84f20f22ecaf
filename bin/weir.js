#!/usr/bin/env node
// Registers tsx so the CLI and the user's pipeline .ts file load from source, sharing one module graph.
require('tsx/cjs/api').register();
const { main } = require('../shared/cli/main.ts');
main(process.argv).then((code) => {
  process.exitCode = code;
});
