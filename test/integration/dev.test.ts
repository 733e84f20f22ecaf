import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { localBrokers, localDynamoEndpoint } from '../../shared/local/endpoints';
import { startDev } from '../../shared/local/dev';
import { loadPipeline } from '../../shared/local/load-pipeline';
import { START_AT } from '../fixtures/at-timestamp';
import { example } from '../support/examples';
import { DynamoProxy } from '../support/dynamo-proxy';
import { waitForRecords } from '../support/kafka-read';

jest.setTimeout(120_000);

describe('weir dev (continuous, free-running emulators)', () => {
  it('processes what a user produces while it runs: windows fire as the in-band watermark passes them', async () => {
    const prefix = `dev-${randomBytes(3).toString('hex')}-`;
    const session = await startDev(example('windowed-wordcount'), resolve(__dirname, '../../examples/windowed-wordcount.ts'), {
      prefix,
      partitions: 2,
      batchSize: 50,
      batchingWindowMs: 50,
      tickMs: 200,
    });
    const kafka = new Kafka({ brokers: [localBrokers()], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    try {
      await producer.connect();
      const t0 = 1_700_000_000_000;
      // Two 5 s windows of words, then one record far ahead: the watermark passes both windows.
      const lines = [
        [t0 + 100, 'a b a'],
        [t0 + 4000, 'b c'],
        [t0 + 6000, 'a'],
        [t0 + 30_000, 'z'],
      ] as const;
      for (const [ts, v] of lines) await producer.send({ topic: `${prefix}lines`, messages: [{ value: v, timestamp: String(ts), partition: 0 }] });
      await producer.send({ topic: `${prefix}lines`, messages: [{ value: 'y', timestamp: String(t0 + 30_000), partition: 1 }] });
      const got = (await waitForRecords(kafka, `${prefix}word-counts-5s`, 4)).map((r) => JSON.parse(String(r.value)) as unknown);
      const sorted = (got as Array<{ word: string; windowStart: number }>).sort((x, y) => x.windowStart - y.windowStart || x.word.localeCompare(y.word));
      expect(sorted).toEqual([
        { word: 'a', count: 2, windowStart: t0, windowEnd: t0 + 5000 },
        { word: 'b', count: 2, windowStart: t0, windowEnd: t0 + 5000 },
        { word: 'c', count: 1, windowStart: t0, windowEnd: t0 + 5000 },
        { word: 'a', count: 1, windowStart: t0 + 5000, windowEnd: t0 + 10_000 },
      ]);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await session.stop();
    }
  });

  it('starts a new consumer group at a timestamp (AT_TIMESTAMP): earlier records are not read', async () => {
    const prefix = `at-${randomBytes(3).toString('hex')}-`;
    const kafka = new Kafka({ brokers: [localBrokers()], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic: `${prefix}events`, numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '-1' }] }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const t = START_AT;
    await producer.send({ topic: `${prefix}events`, messages: [-2000, -1, 0, 1000].map((d, i) => ({ value: `e${i}`, timestamp: String(t + d), partition: 0 })) });
    const file = resolve(__dirname, '../fixtures/at-timestamp.ts');
    const session = await startDev(loadPipeline(file), file, { prefix, partitions: 1, batchingWindowMs: 50 });
    try {
      const got = (await waitForRecords(kafka, `${prefix}events-upper`, 2)).map((r) => String(r.value));
      expect(got).toEqual(['E2', 'E3']);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await session.stop();
    }
  });
});

describe('weir dev --lambda-endpoint', () => {
  // LocalStack cannot run here (no Docker engine), so a small HTTP server plays the Lambda
  // Invoke API: it loads the stage's built bundle and calls its handler, as LocalStack would.
  it('invokes the functions behind a Lambda API with the exact MSK event, and the pipeline runs', async () => {
    const { createServer } = await import('node:http');
    const { join } = await import('node:path');
    const prefix = `api-${randomBytes(3).toString('hex')}-`;
    const calls: string[] = [];
    const env = {
      WEIR_BROKERS: localBrokers(),
      WEIR_TOPIC_PREFIX: prefix,
      WEIR_STATE_TABLE: `${prefix}uppercase-state`,
      WEIR_PROGRESS_TABLE: `${prefix}uppercase-progress`,
      WEIR_DYNAMODB_ENDPOINT: localDynamoEndpoint(),
      WEIR_PARTITIONS: '1',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      WEIR_STAGE: 's0',
    };
    Object.assign(process.env, env);
    const server = createServer((req, res) => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (!m || req.method !== 'POST' || !req.headers.authorization?.includes('/us-east-1/lambda/')) {
          res.writeHead(400).end('bad request');
          return;
        }
        calls.push(decodeURIComponent(m[1] ?? ''));
        const event = JSON.parse(body) as { eventSource?: string; records?: Record<string, Array<{ value?: string }>> };
        if (event.eventSource !== 'aws:kafka' || !Object.keys(event.records ?? {}).every((k) => k === `${prefix}lines-0`)) {
          res.writeHead(400).end('not an MSK event of the lines topic');
          return;
        }
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { handler } = require(join(process.cwd(), 'build/uppercase/s0/index.js')) as { handler: (e: unknown) => Promise<unknown> };
        handler(event).then(
          (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r)),
          (err: Error) => res.writeHead(200, { 'x-amz-function-error': 'Unhandled' }).end(JSON.stringify({ errorType: err.name, errorMessage: err.message })),
        );
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as { port: number }).port;
    const file = resolve(__dirname, '../../examples/uppercase.ts');
    const session = await startDev(example('uppercase'), file, { prefix, partitions: 1, batchingWindowMs: 50, lambdaEndpoint: `http://127.0.0.1:${port}` });
    const kafka = new Kafka({ brokers: [localBrokers()], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    try {
      await producer.connect();
      await producer.send({ topic: `${prefix}lines`, messages: [{ value: 'hello' }, { value: 'lambda api' }] });
      const got = (await waitForRecords(kafka, `${prefix}lines-upper`, 2)).map((r) => String(r.value));
      expect(got).toEqual(['HELLO', 'LAMBDA API']);
      expect(calls.every((c) => c === 'weir-uppercase-s0')).toBe(true);
      expect(calls.length).toBeGreaterThan(0);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await session.stop();
      server.close();
      for (const k of Object.keys(env)) delete process.env[k];
    }
  });
});

describe('weir dev when a batch keeps failing', () => {
  it('retries it past maxRetries until it succeeds (no on-failure topic): nothing is skipped', async () => {
    const prefix = `dev-retry-${randomBytes(3).toString('hex')}-`;
    // The stage process dies at its next 5 DynamoDB requests once records flow: 5 failed
    // invocations of the same batch, more than maxRetries (2).
    let failing = false;
    let refused = 0;
    const proxy = new DynamoProxy(localDynamoEndpoint(), () => {
      if (failing && refused < 5) {
        refused++;
        return { kind: 'kill-before' };
      }
      return { kind: 'forward' };
    });
    const endpoint = await proxy.start();
    const file = resolve(__dirname, '../../examples/uppercase.ts');
    const session = await startDev(example('uppercase'), file, { prefix, partitions: 1, batchingWindowMs: 50, dynamoEndpoint: endpoint, esm: { maxRetries: 2 } });
    const kafka = new Kafka({ brokers: [localBrokers()], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    try {
      failing = true;
      await producer.connect();
      await producer.send({ topic: `${prefix}lines`, messages: [{ value: 'kept' }, { value: 'despite failures' }] });
      const got = (await waitForRecords(kafka, `${prefix}lines-upper`, 2)).map((r) => String(r.value));
      expect(got).toEqual(['KEPT', 'DESPITE FAILURES']);
      expect(refused).toBe(5);
      expect(session.emulators[0]?.stats.failures).toBe(5);
      expect(session.emulators[0]?.stats.toOnFailure).toBe(0);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await session.stop();
      await proxy.stop();
    }
  });
});
