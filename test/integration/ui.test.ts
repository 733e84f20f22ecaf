import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { localBrokers } from '../../shared/local/endpoints';
import { startDev, type DevSession } from '../../shared/local/dev';
import type { UiSnapshot } from '../../shared/local/ui';
import { example } from '../support/examples';
import { waitForRecords } from '../support/kafka-read';

jest.setTimeout(180_000);

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const shots = resolve(__dirname, '../../test-output/ui');
const t0 = 1_700_000_000_000;
/** As the page shows a time. */
const shown = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** Text of the first element matching `selector`, once the page has rendered a snapshot. */
const text = async (page: Page, selector: string): Promise<string> => ((await page.locator(selector).first().textContent()) ?? '').trim();
const num = async (page: Page, selector: string): Promise<number> => Number((await text(page, selector)).replace(/,/g, ''));

/** Waits until `predicate` holds on the page (polled in the browser), at most `ms`. */
async function until(page: Page, what: string, predicate: string, ms = 90_000): Promise<void> {
  try {
    await page.waitForFunction(predicate, undefined, { timeout: ms, polling: 200 });
  } catch (err) {
    const snapshot = await page.evaluate(() => fetch('snapshot.json').then((r) => r.text())).catch(() => '(no snapshot)');
    throw new Error(`the page never showed ${what}: ${(err as Error).message}\nlast snapshot: ${snapshot}`);
  }
}

const cell = (stage: string, field: string): string => `#stages tr[data-stage="${stage}"] td[data-field="${field}"]`;
const cellIs = (selector: string, value: string): string => `(document.querySelector('${selector.replace(/'/g, "\\'")}') || {}).textContent === '${value}'`;

describe('weir dev --ui (the live page, driven in headless Chromium)', () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync('/usr/bin/chromium')) throw new Error('these tests drive Debian\'s chromium: apt-get install -y chromium (.ci/run does this)');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    mkdirSync(shots, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the stage graph, per-stage figures, lag, watermarks, open windows, DLQ and late counts and the window results of a run', async () => {
    const prefix = `ui-${randomBytes(3).toString('hex')}-`;
    const session: DevSession = await startDev(example('windowed-wordcount'), resolve(__dirname, '../../examples/windowed-wordcount.ts'), {
      prefix,
      partitions: 2,
      batchSize: 50,
      batchingWindowMs: 50,
      tickMs: 200,
      ui: { refreshMs: 300 },
    });
    const kafka = new Kafka({ brokers: [localBrokers()], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      expect(session.ui?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      await page.goto(session.ui?.url as string);
      await until(page, 'a first snapshot', `document.querySelector('#status').getAttribute('data-updates') !== null`);
      // The graph: one cluster per stage, the figures written under each stage's label.
      expect(await page.locator('#graph svg g.cluster').count()).toBe(2);
      expect(await text(page, '#graph g.cluster:has(title:text-is("cluster_s1")) > text >> nth=0')).toBe('stage s1: one Lambda (keyed)');

      // GIVEN two 5 s windows of words on partition 0 and records far ahead on both partitions,
      // so the watermark (min over both lanes) passes both windows.
      await producer.connect();
      const lines = [
        [0, t0 + 100, 'a b a'],
        [0, t0 + 4000, 'b c'],
        [0, t0 + 6000, 'a'],
        [0, t0 + 30_000, 'z'],
        [1, t0 + 30_000, 'y'],
      ] as const;
      for (const [partition, ts, v] of lines) await producer.send({ topic: `${prefix}lines`, messages: [{ value: v, timestamp: String(ts), partition }] });
      // THEN the page shows the four results and both keyed partitions at watermark t0 + 27999.
      await until(page, 'four window results', `document.querySelectorAll('#results tbody tr').length === 4`);
      for (const p of [0, 1]) {
        await until(page, `watermark of s1 partition ${p}`, cellIs(`#partitions tr[data-stage="s1"][data-partition="${p}"] td[data-field="watermark"]`, shown(t0 + 27_999)));
      }
      // WHEN a record for a window that has fired comes (late), and one that does not decode (DLQ).
      await producer.send({ topic: `${prefix}lines`, messages: [{ value: 'old', timestamp: String(t0 + 200), partition: 0 }] });
      await producer.send({ topic: `${prefix}lines`, messages: [{ value: Buffer.from([0xff, 0xfe, 0xfd]), timestamp: String(t0 + 31_000), partition: 1 }] });
      await until(page, 'one late and one dead-lettered record', `${cellIs(cell('s1', 'lateRecords'), '1')} && ${cellIs(cell('s0', 'dlqRecords'), '1')}`);
      await until(page, 'lag 0 on every partition and 9 records in at s1', `[...document.querySelectorAll('#partitions td[data-field="lag"]')].every((td) => td.textContent === '0') && ${cellIs(cell('s1', 'recordsIn'), '9')} && ${cellIs(cell('s0', 'recordsIn'), '7')}`);
      await until(page, 'the late and DLQ topics counted', `${cellIs('#outputs tr[data-kind="late"] td[data-field="records"]', '1')} && ${cellIs('#outputs tr[data-kind="dead letters"] td[data-field="records"]', '1')}`);

      // The numbers shown are the run's.
      const [s0, s1] = session.emulators;
      expect(await num(page, cell('s0', 'recordsIn'))).toBe(s0?.stats.recordsIn);
      // s1 takes in the words (the emulator's own count also holds the in-band watermark markers).
      const words = lines.flatMap(([, , v]) => v.split(' ')).length + 1;
      expect(await num(page, cell('s1', 'recordsIn'))).toBe(words);
      expect(s1?.stats.recordsIn).toBeGreaterThan(words);
      expect(await num(page, cell('s0', 'invocations'))).toBe(s0?.stats.invocations);
      expect(await num(page, cell('s0', 'errors'))).toBe(0);
      expect(await num(page, cell('s1', 'errors'))).toBe(0);
      expect(await num(page, cell('s1', 'windowsFired'))).toBe(4);
      expect(await page.locator('#partitions tbody tr').count()).toBe(4);
      expect(await text(page, '#partitions tr[data-stage="s0"][data-partition="0"] td[data-field="endOffset"]')).toBe('5');
      expect(await text(page, '#partitions tr[data-stage="s0"][data-partition="0"] td[data-field="committed"]')).toBe('5');
      expect(await text(page, '#partitions tr[data-stage="s0"][data-partition="1"] td[data-field="watermark"]')).toBe(shown(t0 + 27_999)); // a dead-lettered record does not move event time
      // Open windows: z and y in [t0 + 30000, t0 + 35000), not fired; y fires first (same time, smaller key).
      expect(await text(page, '#windows [data-field="open"]')).toBe('2');
      expect(await text(page, '#windows [data-field="next"]')).toContain(`key "y" [${shown(t0 + 30_000)}, ${shown(t0 + 35_000)})`);
      expect(await text(page, '#windows [data-field="firesAt"]')).toBe(`fires when the watermark reaches ${shown(t0 + 34_999)}`);
      expect(await num(page, '#outputs tr[data-kind="sink"] td[data-field="records"]')).toBe(4);

      // The window results shown are the sink topic's records.
      const inTopic = (await waitForRecords(kafka, `${prefix}word-counts-5s`, 4)).map((r) => `${r.partition}/${r.offset} ${String(r.value)}`);
      const onPage = await page.locator('#results tbody tr').evaluateAll((rows) => rows.map((r) => `${r.querySelector('[data-field="position"]')?.textContent} ${r.querySelector('[data-field="value"]')?.textContent}`));
      expect(onPage.sort()).toEqual(inTopic.sort());
      const results = onPage.map((r) => JSON.parse(r.slice(r.indexOf(' ') + 1)) as { word: string; count: number; windowStart: number });
      expect(results.map((w) => `${w.word}:${w.count}@${w.windowStart - t0}`).sort()).toEqual(['a:1@5000', 'a:2@0', 'b:2@0', 'c:1@0']);

      // The stage figures under each stage's label in the graph.
      expect(await text(page, '#graph g.cluster:has(title:text-is("cluster_s0")) > text >> nth=2')).toMatch(new RegExp(`^${s0?.stats.invocations} invocations  0 errors`));
      await page.screenshot({ path: resolve(shots, 'dev-ui-windowed-wordcount.png'), fullPage: true });
    } finally {
      await page.close().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await session.stop();
    }
  });
});
