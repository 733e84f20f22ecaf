import type { Plugin } from 'esbuild';

/**
 * Protocol requests a producer sends (kafkajs/src/broker): connect, metadata, produce,
 * idempotence, SASL, transactions. Everything else in kafkajs/src/protocol/requests serves
 * the admin and consumer clients, which a stage function never builds.
 */
const PRODUCER_REQUESTS = new Set([
  'apiKeys',
  'produce',
  'metadata',
  'apiVersions',
  'initProducerId',
  'saslHandshake',
  'saslAuthenticate',
  'findCoordinator',
  'addPartitionsToTxn',
  'addOffsetsToTxn',
  'endTxn',
  'txnOffsetCommit',
]);

const fromKafkajs = (importer: string, file: string): boolean => importer.replace(/\\/g, '/').endsWith(`kafkajs/src/${file}`);

/**
 * kafkajs is CommonJS, so esbuild cannot tree-shake it: its entry requires the admin and
 * consumer clients and its request table requires every protocol request. A stage only
 * produces, so those modules are replaced by stubs that throw a clear error if ever reached.
 * This takes kafkajs from 275 KiB to 145 KiB of a stage bundle (docs/PERFORMANCE.md).
 */
export const pruneKafkajsForProducers: Plugin = {
  name: 'weir-prune-kafkajs',
  setup(b) {
    b.onResolve({ filter: /^\.\/(admin|consumer)$/ }, (a) => (fromKafkajs(a.importer, 'index.js') ? { path: a.path, namespace: 'weir-stub-client' } : undefined));
    b.onResolve({ filter: /^\.\/[a-zA-Z]+$/ }, (a) =>
      fromKafkajs(a.importer, 'protocol/requests/index.js') && !PRODUCER_REQUESTS.has(a.path.slice(2)) ? { path: a.path, namespace: 'weir-stub-request' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'weir-stub-client' }, (a) => ({
      contents: `module.exports = () => { throw new Error('the kafkajs ${a.path.slice(2)} client is not part of a Weir stage bundle (stages only produce)') }`,
    }));
    b.onLoad({ filter: /.*/, namespace: 'weir-stub-request' }, (a) => ({
      contents: `module.exports = { versions: [], protocol: () => { throw new Error('the kafkajs request ${a.path.slice(2)} is not part of a Weir stage bundle (stages only produce)') } }`,
    }));
  },
};
