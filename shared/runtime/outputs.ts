import { encodeValue, type SerdeName } from '../api/serde';
import type { SinkSpec } from '../api/sinks';
import type { StageOutput } from '../plan/types';
import type { Cause, Element } from './element';
import { keyBytesOf, sinkKeyBytes } from './keys';
import { checkRecordSize, DEFAULT_LIMITS, fitDlqRecord, type RecordLimits } from './limits';
import { partitionForKey } from './murmur2';
import type { OutRecord, SinkRow } from './ports';
import { encodeEnvelope, encodeMarker, H_ID, H_MARKER, H_ORIGIN, type Marker } from './wire';

export interface DlqInfo {
  readonly stage: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly error: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
}

/**
 * Everything one partition's batch writes, in order. Origins number the records written
 * at each input offset, so along a lane origins only grow.
 */
export class Outputs {
  readonly records: OutRecord[] = [];
  readonly rows: SinkRow[] = [];
  private offset = -1;
  private seq = 0;
  /** Processing time stamped on records to other stages, so theirs stays deterministic on retry. */
  now = -Infinity;

  constructor(
    /** This stage's lane for the input partition being processed. */
    private readonly lane: string,
    private readonly inputPartition: number,
    private readonly dlqTopic: string,
    private readonly limits: RecordLimits = DEFAULT_LIMITS,
  ) {}

  /** Starts the outputs of the input record at `offset`. */
  at(offset: number): void {
    this.offset = offset;
    this.seq = 0;
  }

  mark(): [number, number, number] {
    return [this.records.length, this.rows.length, this.seq];
  }

  rollback([records, rows, seq]: [number, number, number]): void {
    this.records.length = records;
    this.rows.length = rows;
    this.seq = seq;
  }

  /** `key` is a key id (keys.ts); the record carries the key's bytes. */
  toStage(out: StageOutput, el: Element, key: string | null): void {
    // The key's bytes once: murmur2 hashes the very bytes the record carries.
    const keyBytes = keyBytesOf(key);
    const partition = keyBytes !== null && out.keyByNode !== undefined ? partitionForKey(keyBytes, out.partitions) : this.inputPartition % out.partitions;
    this.push({
      topic: out.topic,
      partition,
      key: keyBytes,
      value: Buffer.from(JSON.stringify(el.value ?? null), 'utf8'),
      timestamp: el.timestamp,
      headers: { [H_ORIGIN]: encodeEnvelope({ lane: this.lane, offset: this.offset, seq: this.seq++, edge: out.fromNode, now: this.now }) },
    });
  }

  /** Adds a data record after checking it fits a Kafka message; a RecordError sends the input record to the DLQ. */
  private push(r: OutRecord): void {
    checkRecordSize(r, this.limits, 'it');
    this.records.push(r);
  }

  toSink(sink: SinkSpec<unknown>, sinkPartitions: number, el: Element, cause: Cause): void {
    const id = `${cause.id}/${cause.n++}`;
    if (sink.kind === 'kafka') {
      // The current key's own bytes by default (never its text re-encoded: binary keys must survive).
      const keyBytes = sink.key ? sinkKeyBytes(sink.key(el.value)) : keyBytesOf(el.key);
      const partition = keyBytes === null ? this.inputPartition % sinkPartitions : partitionForKey(keyBytes, sinkPartitions);
      this.push({
        topic: sink.topic,
        partition,
        key: keyBytes,
        value: encodeValue(sink.serde as SerdeName, el.value),
        timestamp: el.timestamp,
        headers: { [H_ID]: id },
      });
      return;
    }
    const item = sink.kind === 'dynamodb' && sink.item ? { ...sink.item(el.value, id), weirId: id } : undefined;
    this.rows.push({ sink: sink.kind === 'dynamodb' ? sink.table : sink.name, id, key: el.key, value: el.value, timestamp: el.timestamp, ...(item ? { item } : {}) });
  }

  dlq(info: DlqInfo): void {
    this.records.push(fitDlqRecord({
      topic: this.dlqTopic,
      partition: 0,
      key: info.key,
      value: info.value,
      timestamp: info.timestamp,
      headers: {
        [H_ID]: `${info.stage}/dlq/${info.topic}/${info.partition}/${info.offset}`,
        'weir-dlq-stage': info.stage,
        'weir-dlq-topic': info.topic,
        'weir-dlq-partition': String(info.partition),
        'weir-dlq-offset': String(info.offset),
        'weir-dlq-error': info.error,
      },
    }, this.limits));
  }

  /** Watermark markers go to every partition of every stage output, after the batch's data. */
  markers(outputs: readonly StageOutput[], marker: Marker, timestamp: number): void {
    const seen = new Set<string>();
    const header = encodeMarker(marker);
    for (const out of outputs) {
      if (seen.has(out.topic)) continue;
      seen.add(out.topic);
      for (let p = 0; p < out.partitions; p++) {
        this.records.push({ topic: out.topic, partition: p, key: null, value: null, timestamp, headers: { [H_MARKER]: header } });
      }
    }
  }
}
