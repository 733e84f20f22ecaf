/**
 * The benchmark's fixed, seeded workload: text lines over 4 partitions, words drawn from a
 * Zipf-distributed vocabulary, event timestamps out of order within the 2 s bound.
 */

/** Mulberry32: the seeded PRNG the chaos runs use (uniform in [0, 1)). */
import { prng as mulberry32 } from '../shared/local/chaos';

export { mulberry32 };

const ONSETS = ['b', 'c', 'd', 'f', 'g', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'w', 'z', 'br', 'cl', 'dr', 'gr', 'pl', 'st', 'tr', 'sh', 'ch', 'th'];
const VOWELS = ['a', 'e', 'i', 'o', 'u', 'ai', 'ea', 'oo', 'ou'];
const CODAS = ['', '', '', 'n', 'r', 's', 't', 'l', 'm', 'ck', 'nd', 'st'];

/** `n` distinct lowercase words ([a-z]+, so the pipeline's tokenizer keeps each whole). */
export function vocabulary(n: number, rand: () => number): string[] {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const seen = new Set<string>();
  const out: string[] = [];
  while (out.length < n) {
    const syllables = 1 + Math.floor(rand() * 3);
    let w = '';
    for (let i = 0; i < syllables; i++) w += pick(ONSETS) + pick(VOWELS) + (i === syllables - 1 ? pick(CODAS) : '');
    if (seen.has(w)) continue;
    seen.add(w);
    out.push(w);
  }
  return out;
}

/** Samples ranks 0..n-1 with P(rank k) proportional to 1 / (k + 1)^s. */
export function zipfSampler(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    total += 1 / (k + 1) ** s;
    cdf[k] = total;
  }
  for (let k = 0; k < n; k++) cdf[k] = (cdf[k] as number) / total;
  return () => {
    const u = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cdf[mid] as number) < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export interface WorkloadSpec {
  readonly lines: number;
  readonly partitions: number;
  readonly vocabulary: number;
  readonly zipfExponent: number;
  readonly minWords: number;
  readonly maxWords: number;
  /** Mean event-time step between consecutive lines of one partition, ms. */
  readonly meanStepMs: number;
  /** Share of lines whose timestamp lags the partition's clock. */
  readonly lateShare: number;
  /** The pipeline's out-of-orderness bound, ms: a line is never this far behind its partition's max. */
  readonly boundMs: number;
  readonly startMs: number;
  readonly seed: number;
  /**
   * How words are drawn from the vocabulary: `zipf` (default; made-up words, Zipf law of
   * `zipfExponent`) or `uniform`: `vocabulary` distinct keys, each used equally often (the
   * word stream runs through seeded random permutations of all keys, so every key appears
   * once the stream has `vocabulary` words).
   */
  readonly distribution?: 'zipf' | 'uniform';
}

export const DEFAULT_SPEC: WorkloadSpec = {
  lines: 200_000,
  partitions: 4,
  vocabulary: 5000,
  zipfExponent: 1,
  minWords: 2,
  maxWords: 6,
  meanStepMs: 4,
  lateShare: 0.25,
  boundMs: 2000,
  // 2026-01-01T00:00:00Z, a multiple of the 5 s window.
  startMs: 1_767_225_600_000,
  seed: 20_260_105,
};

/**
 * The large-state workload (issue 12): 16 partitions, 500,000 distinct keys used uniformly
 * (each about twice: 250,000 lines of 2-6 words), for bench/large-state-pipeline.ts.
 */
export const LARGE_STATE_SPEC: WorkloadSpec = {
  ...DEFAULT_SPEC,
  lines: 250_000,
  partitions: 16,
  vocabulary: 500_000,
  distribution: 'uniform',
  // A minute into the hour: no line (lagging up to boundMs) falls into the hour before.
  startMs: DEFAULT_SPEC.startMs + 60_000,
  seed: 20_261_128,
};

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
/** 26^6: the key space of uniformKey. */
const KEY_SPACE = 26 ** 6;
/**
 * Key `i` (< 26^6) as 6 lowercase letters ([a-z]+, so the tokenizer keeps it whole), spread
 * over the key space by a bijection (i * prime mod 26^6) so neighbouring keys do not share
 * prefixes (which would flatter the compression of snapshots).
 */
export function uniformKey(i: number): string {
  // Exact in doubles: i * 1,000,003 < 26^6 * 1,000,003 < 2^53.
  let x = (i * 1_000_003) % KEY_SPACE;
  let w = '';
  for (let d = 0; d < 6; d++) {
    w = LETTERS[x % 26] + w;
    x = Math.floor(x / 26);
  }
  return w;
}

/** Words of the `uniform` distribution: successive seeded permutations of keys 0..n-1. */
function uniformSampler(n: number, rand: () => number): () => number {
  if (n > KEY_SPACE) throw new Error(`workload: at most ${KEY_SPACE} uniform keys, got ${n}`);
  const perm = new Int32Array(n);
  let next = n;
  return () => {
    if (next >= n) {
      for (let i = 0; i < n; i++) perm[i] = i;
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        const t = perm[i] as number;
        perm[i] = perm[j] as number;
        perm[j] = t;
      }
      next = 0;
    }
    return perm[next++] as number;
  };
}

/** A line generator over the spec's vocabulary and distribution (its own seeded stream). */
export function lineMaker(spec: WorkloadSpec, seed: number): () => string {
  if (spec.distribution === 'uniform') {
    const rand = mulberry32(seed);
    const key = uniformSampler(spec.vocabulary, rand);
    const span = spec.maxWords - spec.minWords + 1;
    return () => {
      const n = spec.minWords + Math.floor(rand() * span);
      const words: string[] = [];
      for (let i = 0; i < n; i++) words.push(uniformKey(key()));
      return words.join(' ');
    };
  }
  const vocab = vocabulary(spec.vocabulary, mulberry32(spec.seed));
  const rand = mulberry32(seed);
  const rank = zipfSampler(spec.vocabulary, spec.zipfExponent, rand);
  const span = spec.maxWords - spec.minWords + 1;
  return () => {
    const n = spec.minWords + Math.floor(rand() * span);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(vocab[rank()] as string);
    return words.join(' ');
  };
}

export interface Workload {
  readonly spec: WorkloadSpec;
  /** Per line, in production order (partition-major within each round). */
  readonly partition: Uint8Array;
  readonly timestamp: Float64Array;
  readonly text: string[];
  readonly words: number;
  /** Distinct words (keys) in the input. */
  readonly distinctWords: number;
  readonly bytes: number;
}

/**
 * `spec.lines` lines, round-robin over the partitions. Each partition has its own event-time
 * clock (random steps, mean `meanStepMs`); a `lateShare` of lines lag that clock by up to
 * `boundMs - 1` ms, so no line is ever `boundMs` or more behind its partition's max.
 */
export function generate(spec: WorkloadSpec = DEFAULT_SPEC): Workload {
  const rand = mulberry32(spec.seed + 1);
  const line = lineMaker(spec, spec.seed + 2);
  const partition = new Uint8Array(spec.lines);
  const timestamp = new Float64Array(spec.lines);
  const text: string[] = new Array<string>(spec.lines);
  const clock = Array.from({ length: spec.partitions }, () => spec.startMs);
  const max = Array.from({ length: spec.partitions }, () => Number.NEGATIVE_INFINITY);
  let words = 0;
  let bytes = 0;
  const distinct = new Set<string>();
  for (let i = 0; i < spec.lines; i++) {
    const p = i % spec.partitions;
    clock[p] = (clock[p] as number) + Math.floor(rand() * (2 * spec.meanStepMs + 1));
    const lag = rand() < spec.lateShare ? Math.floor(rand() * spec.boundMs) : 0;
    const ts = (clock[p] as number) - lag;
    if (ts <= (max[p] as number) - spec.boundMs) throw new Error(`workload: line ${i} is ${(max[p] as number) - ts} ms behind partition ${p}'s max`);
    max[p] = Math.max(max[p] as number, ts);
    const t = line();
    partition[i] = p;
    timestamp[i] = ts;
    text[i] = t;
    const ws = t.split(' ');
    for (const w of ws) distinct.add(w);
    words += ws.length;
    bytes += Buffer.byteLength(t);
  }
  return { spec, partition, timestamp, text, words, distinctWords: distinct.size, bytes };
}

/** Largest lag behind the partition's running max, per partition (a check of the bound). */
export function maxLag(w: Workload): number {
  const max = new Map<number, number>();
  let lag = 0;
  for (let i = 0; i < w.text.length; i++) {
    const p = w.partition[i] as number;
    const ts = w.timestamp[i] as number;
    const m = Math.max(max.get(p) ?? Number.NEGATIVE_INFINITY, ts);
    max.set(p, m);
    lag = Math.max(lag, m - ts);
  }
  return lag;
}
