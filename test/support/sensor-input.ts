import type { InputRecord } from '../../shared/local/input-file';

/**
 * Readings for examples/sensor-alerts.ts: `n` readings of 3 sensors, 1-4 s apart (seeded), hot
 * ones (> 80) in bursts with gaps longer than the 30 s TTL, so alert numbers both grow and
 * start again at 1; record i goes to partition i % partitions.
 */
export function sensorReadings(seed: number, n: number, partitions: number): InputRecord[] {
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const out: InputRecord[] = [];
  let t = Date.UTC(2023, 4, 1, 12, 0, 0);
  for (let i = 0; i < n; i++) {
    t += 1000 + Math.floor(rand() * 3000);
    const burst = Math.floor(i / 12) % 3 === 0;
    const temp = burst && rand() < 0.6 ? 81 + Math.floor(rand() * 15) : 40 + Math.floor(rand() * 30);
    out.push({ timestamp: t, value: { sensor: `s${Math.floor(rand() * 3)}`, temp }, partition: i % partitions });
  }
  return out;
}
