// Loaded with NODE_OPTIONS=--require into stage processes by the fault-matrix tests: copies
// everything the process writes to stdout and stderr into WEIR_TEST_CAPTURE_DIR/<pid>.log, so
// a test can check the logs and metrics a stage function emits (and that no payload is in them).
// The lines go only there, so the test run's own output stays readable.
'use strict';
const { appendFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const dir = process.env.WEIR_TEST_CAPTURE_DIR;
if (dir) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}.log`);
  for (const stream of [process.stdout, process.stderr]) {
    stream.write = (chunk, ...rest) => {
      try {
        appendFileSync(file, typeof chunk === 'string' ? chunk : Buffer.from(chunk));
      } catch {
        // best effort
      }
      const done = rest.find((x) => typeof x === 'function');
      if (done) done();
      return true;
    };
  }
}
