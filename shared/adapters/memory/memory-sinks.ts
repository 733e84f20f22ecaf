import type { FunctionSinkSpec, SinkRecord } from '../../api/sinks';
import type { SinkRow, SinkWriter } from '../../runtime/ports';

/**
 * Non-Kafka sinks in process: DynamoDB sinks become idempotent maps keyed by weir-id;
 * function sinks are called with their records.
 */
export class MemorySinkWriter implements SinkWriter {
  readonly tables = new Map<string, Map<string, SinkRow>>();
  readonly log: SinkRow[] = [];

  constructor(private readonly functions: ReadonlyMap<string, FunctionSinkSpec<unknown>> = new Map()) {}

  async write(rows: readonly SinkRow[]): Promise<void> {
    const bySink = new Map<string, SinkRecord<unknown>[]>();
    for (const r of rows) {
      this.log.push(r);
      const fn = this.functions.get(r.sink);
      if (fn) {
        const list = bySink.get(r.sink) ?? [];
        list.push({ id: r.id, key: r.key, value: r.value, timestamp: r.timestamp });
        bySink.set(r.sink, list);
        continue;
      }
      const table = this.tables.get(r.sink) ?? new Map<string, SinkRow>();
      this.tables.set(r.sink, table);
      table.set(r.id, r);
    }
    for (const [name, records] of bySink) await this.functions.get(name)?.write(records);
  }
}
