import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { startDev } from '../../shared/local/dev';
import { localBrokers } from '../../shared/local/endpoints';
import { loadPipeline } from '../../shared/local/load-pipeline';
import type { OutputRecord } from '../../shared/local/output-file';
import { planPipeline } from '../../shared/plan/planner';
import { readTopic } from '../support/kafka-read';
import { recordRow } from '../support/reliability';
import { describeValidation, validate } from '../support/validator';

// Row 9 of the fault matrix, end to end as `weir dev` runs: free-running emulators, the
// ticker every 200 ms, event time close to the wall clock. Records come out of order (within
// the bound), one source partition never gets a record, and then traffic stops entirely: the
// last windows must still fire (idleTimeoutMs: idle partitions advance with processing time).
// A record that arrives after its window fired goes to the late side output.
jest.setTimeout(120_000);

const FILE = resolve(__dirname, '../fixtures/idle-windows.ts');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

describe('row 9: late and out-of-order records, an idle partition, traffic stopping (weir dev, ticker)', () => {
  it('fires every window once traffic stops, sends the late record to the side output, and loses nothing', async () => {
    const prefix = `idle-${randomBytes(3).toString('hex')}-`;
    const p = loadPipeline(FILE);
    const session = await startDev(p, FILE, { prefix, partitions: 3, batchSize: 20, batchingWindowMs: 50, tickMs: 200 });
    const kafka = new Kafka({ brokers: [localBrokers()], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    try {
      await producer.connect();
      // Event time near the wall clock, at the start of a 2 s window.
      const t0 = Math.ceil(Date.now() / 2000) * 2000;
      const clicks: Array<[number, number, string]> = [];
      const pages = ['home', 'cart', 'pay'];
      for (let i = 0; i < 60; i++) {
        // Partitions 0 and 1 only (partition 2 stays idle); every 7th click 300 ms out of order.
        const ts = t0 + i * 50 - (i % 7 === 3 ? 300 : 0);
        clicks.push([i % 2, ts, pages[i % 3] as string]);
      }
      // One request: sent one by one on a loaded machine, a partition could fall silent for
      // longer than idleTimeoutMs mid-input, and its idle-advanced watermark (which follows the
      // wall clock) would rightly make the next clicks late.
      await producer.send({ topic: `${prefix}clicks`, messages: clicks.map(([partition, ts, page]) => ({ value: page, timestamp: String(ts), partition })) });
      const counts = new Map<string, number>();
      for (const [, ts, page] of clicks) {
        const k = JSON.stringify([page, Math.floor(ts / 2000) * 2000]);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const expected: OutputRecord[] = [...counts].map(([k, n]) => {
        const [page, windowStart] = JSON.parse(k) as [string, number];
        return { topic: 'page-counts', partition: null, key: page, value: { page, n, windowStart }, timestamp: windowStart + 1999, headers: {} };
      });
      const sinkTopic = `${prefix}page-counts`;
      const asOutputs = async (): Promise<OutputRecord[]> =>
        (await readTopic(kafka, sinkTopic)).filter((r) => r.headers['weir-marker'] === undefined).map((r) => ({ topic: 'page-counts', partition: r.partition, key: r.key?.toString('utf8') ?? null, value: JSON.parse(String(r.value)) as unknown, timestamp: r.timestamp, headers: r.headers }));
      // Traffic has stopped: only the ticker can move event time past the last windows.
      await until('every window to fire after traffic stopped', 60_000, async () => {
        const got = await asOutputs();
        return validate(expected, got).lost.length === 0 ? got : undefined;
      });
      // A click for the first window, long after it fired: late.
      await producer.send({ topic: `${prefix}clicks`, messages: [{ value: 'late-home', timestamp: String(t0 + 10), partition: 0 }] });
      const late = await until('the late click on the side output', 30_000, async () => {
        const rs = (await readTopic(kafka, `${prefix}late-clicks`)).filter((r) => r.headers['weir-marker'] === undefined);
        return rs.length ? rs : undefined;
      });
      expect(late.map((r) => String(r.value))).toEqual(['late-home']);
      await sleep(1000);
      const v = validate(expected, await asOutputs());
      process.stderr.write(`[faults-idle] ${describeValidation(v)}\n`);
      const dlqTopic = `${prefix}${planPipeline(p, { defaultPartitions: 3 }).dlqTopic}`;
      const dlq = new Set((await readTopic(kafka, dlqTopic)).filter((r) => r.headers['weir-marker'] === undefined).map((r) => r.headers['weir-id'] ?? `${r.partition}/${r.offset}`));
      recordRow({
        row: '9',
        injected: '`weir dev`-style free-running emulators, ticker every 200 ms, idleTimeoutMs 1 s: 60 clicks on 2 of 3 partitions (every 7th 300 ms out of order), partition 2 never written, then no traffic; then one click for a window that already fired',
        recordsIn: clicks.length + 1,
        dlq: dlq.size,
        lost: v.lost.length + (late.length === 1 ? 0 : 1),
        duplicated: v.duplicated.length + v.unexpected.length + Math.max(0, late.length - 1),
        outcome: `every window fired with no traffic (${v.expected} exact counts, ticker-advanced idle watermark); the late click on the late side output`,
        test: 'test/integration/faults-idle.test.ts: row 9',
      });
      expect(v.lost).toEqual([]);
      expect(v.duplicated).toEqual([]);
      expect(v.unexpected).toEqual([]);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await session.stop();
    }
  });
});
