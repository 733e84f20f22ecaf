/** Per-partition buffers of the MSK trigger emulator (emulator.ts) and their batching window. */
import type { KafkaRecord } from '../../runtime/msk-event';

export interface PartitionFeed {
  readonly topic: string;
  readonly partition: number;
  /**
   * Fetched records from `committed` up to `fetched`: a batch leaves the buffer only once its
   * offset is committed, so a failing commit cannot lose records, and whatever a consumer
   * (re)fetches below `fetched` after a rebalance or restart is already here and dropped.
   */
  readonly buffer: KafkaRecord[];
  /** Next offset to hand out (fetched offsets below it are buffered or delivered). */
  fetched: number;
  /** Next offset after the last successful invocation (what the group has committed). */
  committed: number;
  /** A worker drains it (free mode). */
  busy: boolean;
  /** Set while records of it are in an invocation, its own worker's or another's event; settles after their commit. */
  carried?: Promise<void>;
  /** When each fetched chunk arrived (first offset, time): the batching window runs from its oldest buffered record's arrival. */
  readonly arrivals: Array<{ offset: number; at: number }>;
  /** Wakes a worker waiting out the batching window once a full batch is buffered. */
  wake?: () => void;
}

/** One partition's share of an event. */
export interface Part {
  readonly feed: PartitionFeed;
  readonly records: KafkaRecord[];
}

/**
 * Waits until the partition's oldest buffered record has waited the batching window, or a
 * full batch is buffered, as the MSK trigger does. (Sleeping a whole window before each
 * partial batch, as this emulator first did, made every stage add a window to latency.)
 */
export async function batchingWindow(feed: PartitionFeed, batchSize: number, windowMs: number): Promise<void> {
  const since = feed.arrivals[0]?.at ?? Date.now();
  const wait = since + windowMs - Date.now();
  if (wait <= 0 || feed.buffer.length >= batchSize) return;
  await new Promise<void>((done) => {
    const timer = setTimeout(done, wait);
    feed.wake = () => {
      clearTimeout(timer);
      done();
    };
  });
  feed.wake = undefined;
}

/** A part's records are committed (`next` is the offset after them): they leave the buffer. */
export function committedPart(p: Part, next: number): void {
  const f = p.feed;
  f.committed = next;
  f.buffer.splice(0, p.records.length);
  const head = f.buffer[0]?.offset ?? f.fetched;
  while (f.arrivals.length > 1 && (f.arrivals[1]?.offset ?? Infinity) <= head) f.arrivals.shift();
}
