import { splitFunctionRows, type FunctionSinks } from '../../runtime/function-sinks';
import type { SinkRow, SinkWriter } from '../../runtime/ports';

/**
 * Non-Kafka sinks in process: DynamoDB sinks become idempotent maps keyed by weir-id;
 * function sinks are called with their records.
 */
export class MemorySinkWriter implements SinkWriter {
  readonly tables = new Map<string, Map<string, SinkRow>>();
  readonly log: SinkRow[] = [];

  constructor(private readonly functions: FunctionSinks = new Map()) {}

  async write(rows: readonly SinkRow[]): Promise<void> {
    this.log.push(...rows);
    const { calls, rest } = splitFunctionRows(rows, this.functions);
    for (const r of rest) {
      const table = this.tables.get(r.sink) ?? new Map<string, SinkRow>();
      this.tables.set(r.sink, table);
      table.set(r.id, r);
    }
    for (const [fn, records] of calls) await fn.write(records);
  }
}
