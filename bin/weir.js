#!/usr/bin/env node
// Registers tsx so the CLI and the user's pipeline .ts file load from source, sharing one module graph.
require('tsx/cjs/api').register();
// The AWS SDK warns on Node 20 about a support date; it is noise for a CLI user.
const emit = process.emitWarning;
process.emitWarning = (w, ...rest) => (String(w && w.name ? w.name : rest[0]).includes('NodeVersionSupportWarning') || String(w).includes('NodeVersionSupportWarning') ? undefined : emit.call(process, w, ...rest));
const { main } = require('../shared/cli/main.ts');
main(process.argv).then((code) => {
  process.exitCode = code;
  // After an error, a client that had connected (Kafka, DynamoDB) must not keep the process up.
  if (code !== 0) process.exit(code);
});
