import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPLAY_CLOCK_ENV, stageClock } from '../functions/clock';
import { ReplayClock } from '../shared/local/replay-clock';
import type { PlacedRecord } from '../shared/local/input-file';

// The processing time of a bounded --local run (issue 11 item 12): the run moves it a round of
// source batches at a time, as the embedded runtime does; the stage bundle reads it from a file.
const placed = (topic: string, partition: number, ...timestamps: number[]): PlacedRecord[] =>
  timestamps.map((timestamp) => ({ topic, partition, key: null, value: Buffer.from('x'), timestamp }));

describe('ReplayClock', () => {
  it('takes in each partition\'s next batch before the round, never goes back, and starts at -Infinity', () => {
    const clock = new ReplayClock([...placed('in', 0, 10, 50, 20, 30), ...placed('in', 1, 40, 5)]);
    try {
      const now = (): number => stageClock({ [REPLAY_CLOCK_ENV]: clock.file }).now();
      expect(now()).toBe(Number.NEGATIVE_INFINITY);
      clock.advance([{ topic: 'in', partition: 0, committed: 0, end: 4 }, { topic: 'in', partition: 1, committed: 0, end: 2 }], 1);
      expect(now()).toBe(40);
      clock.advance([{ topic: 'in', partition: 0, committed: 1, end: 4 }, { topic: 'in', partition: 1, committed: 1, end: 2 }], 1);
      expect(now()).toBe(50);
      clock.advance([{ topic: 'in', partition: 0, committed: 2, end: 4 }, { topic: 'in', partition: 1, committed: 2, end: 2 }], 2);
      expect(now()).toBe(50);
      expect(readFileSync(clock.file, 'utf8')).toBe('50');
    } finally {
      clock.dispose();
    }
  });

  it('refuses a source partition that holds other records than the run produced', () => {
    const clock = new ReplayClock(placed('in', 0, 1, 2));
    try {
      expect(() => clock.advance([{ topic: 'in', partition: 0, committed: 0, end: 3 }], 10)).toThrow(
        'source in/0 holds 3 records but the run produced 2; its processing time cannot be replayed (was the topic written by someone else?)',
      );
    } finally {
      clock.dispose();
    }
  });
});

describe('stageClock', () => {
  it('is the wall clock without the variable (deployed, weir dev)', () => {
    const before = Date.now();
    const t = stageClock({}).now();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it('names the variable when its file is missing or broken', () => {
    const clock = new ReplayClock([]);
    const bad = join(clock.file + '-bad');
    try {
      writeFileSync(bad, 'soon');
      expect(() => stageClock({ [REPLAY_CLOCK_ENV]: bad }).now()).toThrow(`WEIR_REPLAY_CLOCK_FILE file ${bad} must hold a time in ms, got "soon"`);
    } finally {
      clock.dispose();
    }
    expect(() => stageClock({ [REPLAY_CLOCK_ENV]: bad }).now()).toThrow(`WEIR_REPLAY_CLOCK_FILE names ${bad}, which cannot be read (`);
  });
});
