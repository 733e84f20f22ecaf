// A Lambda sandbox for one stage bundle, in a child process: load the bundle once (cold
// start), then run invocations sent over IPC one at a time, as the Node.js runtime does.
'use strict';
const bundle = process.argv[2];
// The AWS SDK warns on Node 20 about a support date (Lambda runs Node 22): noise here.
const emit = process.emitWarning;
process.emitWarning = (w, ...rest) => (String(w).includes('NodeVersionSupportWarning') || String(rest[0]).includes('NodeVersionSupportWarning') ? undefined : emit.call(process, w, ...rest));
const started = process.hrtime.bigint();
let handler;
try {
  handler = require(bundle).handler;
  if (typeof handler !== 'function') throw new Error(`${bundle} exports no handler function`);
} catch (err) {
  process.send({ type: 'init-error', error: { name: err.name, message: err.message } });
  process.exit(1);
}
process.send({ type: 'ready', initMs: Number(process.hrtime.bigint() - started) / 1e6 });
process.on('message', async (msg) => {
  const deadline = Date.now() + msg.timeoutMs;
  const context = {
    functionName: msg.functionName,
    awsRequestId: msg.id,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(msg.event, context);
    process.send({ type: 'result', id: msg.id, result });
  } catch (err) {
    process.send({ type: 'error', id: msg.id, error: { name: err && err.name, message: err && err.message, code: err && err.code, retriable: err && err.retriable } });
  }
});
