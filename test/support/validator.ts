import type { OutputRecord } from '../../shared/local/output-file';

/**
 * Checks a sink against what it should hold, as Flink's ValidatingExactlyOnceSink does:
 * the actual records are deduplicated by `weir-id` (a consumer's job), then compared with
 * the expected ones as a multiset of logical contents (topic, key, value, timestamp).
 *
 * - lost: expected contents missing from the sink;
 * - duplicated: one weir-id written with two contents, or one logical result present more
 *   often than expected (the same result counted twice under different ids);
 * - unexpected: contents the expected output does not have at all (a wrong total).
 */
export interface Validation {
  /** Expected records. */
  readonly expected: number;
  /** Records read from the sink topics, before deduplication. */
  readonly delivered: number;
  /** Distinct weir-ids among them. */
  readonly distinct: number;
  readonly lost: string[];
  readonly duplicated: string[];
  readonly unexpected: string[];
}

export interface ValidateOptions {
  /** Only these topics are compared (default: every topic present in either list). */
  readonly topics?: readonly string[];
}

export function contentOf(o: Pick<OutputRecord, 'topic' | 'key' | 'value' | 'timestamp'>): string {
  return JSON.stringify([o.topic, o.key, o.value, o.timestamp]);
}

export function validate(expected: readonly OutputRecord[], actual: readonly OutputRecord[], options: ValidateOptions = {}): Validation {
  const wanted = options.topics ? new Set(options.topics) : undefined;
  const inScope = (o: OutputRecord): boolean => !wanted || wanted.has(o.topic);
  const exp = expected.filter(inScope);
  const act = actual.filter(inScope);
  const duplicated: string[] = [];
  const byId = new Map<string, string>();
  const kept: string[] = [];
  for (const o of act) {
    const id = o.headers['weir-id'];
    const content = contentOf(o);
    if (id === undefined) {
      // No id to deduplicate by: every copy counts.
      kept.push(content);
      continue;
    }
    const prev = byId.get(id);
    if (prev === undefined) {
      byId.set(id, content);
      kept.push(content);
    } else if (prev !== content) {
      duplicated.push(`weir-id ${id} written with two contents: ${prev} / ${content}`);
    }
  }
  const want = new Map<string, number>();
  for (const o of exp) want.set(contentOf(o), (want.get(contentOf(o)) ?? 0) + 1);
  const got = new Map<string, number>();
  for (const c of kept) got.set(c, (got.get(c) ?? 0) + 1);
  const lost: string[] = [];
  const unexpected: string[] = [];
  for (const [c, n] of want) {
    const g = got.get(c) ?? 0;
    for (let i = g; i < n; i++) lost.push(c);
  }
  for (const [c, g] of got) {
    const n = want.get(c);
    if (n === undefined) for (let i = 0; i < g; i++) unexpected.push(c);
    else for (let i = n; i < g; i++) duplicated.push(`${c} present ${g} times, expected ${n}`);
  }
  return { expected: exp.length, delivered: act.length, distinct: byId.size, lost: lost.sort(), duplicated: duplicated.sort(), unexpected: unexpected.sort() };
}

/** A one-line account of a validation, for test output. */
export function describeValidation(v: Validation): string {
  return `${v.expected} expected, ${v.delivered} delivered (${v.distinct} distinct weir-ids): ${v.lost.length} lost, ${v.duplicated.length} duplicated, ${v.unexpected.length} unexpected`;
}
