// A cold start of one stage bundle in a fresh Node process, as Lambda's runtime does it:
// load the bundle (its top-level code), then one `{ weir: 'init' }` invocation (the handler
// builds its Kafka and DynamoDB clients). Plain Node, no loader: what Lambda runs.
'use strict';
const bootMs = process.uptime() * 1000;
const bundle = process.argv[2];
const emit = process.emitWarning;
process.emitWarning = (w, ...rest) => (String(w).includes('NodeVersionSupportWarning') || String(rest[0]).includes('NodeVersionSupportWarning') ? undefined : emit.call(process, w, ...rest));
const t0 = process.hrtime.bigint();
const { handler } = require(bundle);
const t1 = process.hrtime.bigint();
const context = { functionName: 'init-probe', awsRequestId: 'init', getRemainingTimeInMillis: () => 60_000 };
Promise.resolve(handler({ weir: 'init' }, context)).then(
  () => {
    const t2 = process.hrtime.bigint();
    process.send({ bootMs, requireMs: Number(t1 - t0) / 1e6, initEventMs: Number(t2 - t1) / 1e6 }, () => process.exit(0));
  },
  (err) => {
    process.send({ error: String(err && err.stack ? err.stack : err) }, () => process.exit(1));
  },
);
