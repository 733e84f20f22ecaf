/**
 * The baseline's computation: 5 s tumbling event-time windowed word counts in memory, with
 * the pipeline's watermark semantics (Flink's): per partition, watermark = max timestamp -
 * bound - 1; combined = min over all partitions (a partition not heard from holds it at
 * -inf); a window [s, e) fires when the combined watermark reaches e - 1; a record whose
 * window has fired already is late; a finished partition's watermark is +inf.
 */

export interface WindowResult {
  readonly word: string;
  readonly count: number;
  readonly windowStart: number;
  readonly windowEnd: number;
}

/** The words of a line, as the example's flatMap: lowercase, runs of a-z. */
export function wordsOf(line: string): string[] {
  return line.toLowerCase().match(/[a-z]+/g) ?? [];
}

export class TumblingWordCount {
  private readonly maxTs: number[];
  private readonly finished: boolean[];
  /** Open windows by start: word -> count. */
  private readonly open = new Map<number, Map<string, number>>();
  private watermark = Number.NEGATIVE_INFINITY;
  late = 0;
  words = 0;

  constructor(
    partitions: number,
    private readonly sizeMs = 5000,
    private readonly boundMs = 2000,
  ) {
    this.maxTs = Array.from({ length: partitions }, () => Number.NEGATIVE_INFINITY);
    this.finished = Array.from({ length: partitions }, () => false);
  }

  /** Adds one line read from `partition`. */
  add(partition: number, timestamp: number, line: string): void {
    const start = timestamp - (((timestamp % this.sizeMs) + this.sizeMs) % this.sizeMs);
    for (const w of wordsOf(line)) {
      this.words++;
      if (start + this.sizeMs - 1 <= this.watermark) {
        this.late++;
        continue;
      }
      let counts = this.open.get(start);
      if (!counts) this.open.set(start, (counts = new Map()));
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    if (timestamp > (this.maxTs[partition] as number)) this.maxTs[partition] = timestamp;
  }

  /** End of a partition's input: its watermark becomes +inf. */
  finish(partition: number): void {
    this.finished[partition] = true;
  }

  /** Advances the combined watermark (after a batch) and returns the windows that fire, oldest first. */
  advance(): WindowResult[] {
    let wm = Number.POSITIVE_INFINITY;
    for (let p = 0; p < this.maxTs.length; p++) {
      const pw = this.finished[p] ? Number.POSITIVE_INFINITY : (this.maxTs[p] as number) - this.boundMs - 1;
      if (pw < wm) wm = pw;
    }
    if (wm <= this.watermark) return [];
    this.watermark = wm;
    const out: WindowResult[] = [];
    for (const start of [...this.open.keys()].sort((a, b) => a - b)) {
      const end = start + this.sizeMs;
      if (end - 1 > wm) break;
      for (const [word, count] of this.open.get(start) as Map<string, number>) out.push({ word, count, windowStart: start, windowEnd: end });
      this.open.delete(start);
    }
    return out;
  }
}

/** A result as one comparable string. */
export function resultKey(r: WindowResult): string {
  return `${r.word}|${r.count}|${r.windowStart}|${r.windowEnd}`;
}

/** Compares two multisets of results; returns a short description of the difference, or undefined. */
export function compareResults(a: readonly string[], b: readonly string[], names: [string, string]): string | undefined {
  const counts = new Map<string, number>();
  for (const k of a) counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const k of b) counts.set(k, (counts.get(k) ?? 0) - 1);
  const onlyA: string[] = [];
  const onlyB: string[] = [];
  for (const [k, n] of counts) {
    if (n > 0) onlyA.push(`${k} x${n}`);
    if (n < 0) onlyB.push(`${k} x${-n}`);
  }
  if (!onlyA.length && !onlyB.length) return undefined;
  return `${names[0]} has ${a.length} results, ${names[1]} ${b.length}; ${onlyA.length} only in ${names[0]} (e.g. ${onlyA.slice(0, 3).join(', ')}), ${onlyB.length} only in ${names[1]} (e.g. ${onlyB.slice(0, 3).join(', ')})`;
}
