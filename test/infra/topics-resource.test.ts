import { applyTopics, onTopicsEvent, type TopicAdmin, type TopicSpec, type TopicsEvent, type TopicsResourceProperties } from '../../functions/topics-resource';

/** An in-memory cluster behind the TopicAdmin port, recording every call. */
function memoryAdmin(initial: Record<string, number> = {}): TopicAdmin & { topics: Map<string, number>; calls: string[] } {
  const topics = new Map(Object.entries(initial));
  const calls: string[] = [];
  return {
    topics,
    calls,
    async partitionCounts(names) {
      return new Map(names.filter((n) => topics.has(n)).map((n) => [n, topics.get(n) as number]));
    },
    async createTopics(ts: readonly TopicSpec[]) {
      calls.push(`create ${ts.map((t) => `${t.name}:${t.partitions}`).join(',')}`);
      for (const t of ts) topics.set(t.name, t.partitions);
    },
    async createPartitions(ts: readonly TopicSpec[]) {
      calls.push(`grow ${ts.map((t) => `${t.name}:${t.partitions}`).join(',')}`);
      for (const t of ts) topics.set(t.name, t.partitions);
    },
    async deleteTopics(names) {
      calls.push(`delete ${names.join(',')}`);
      for (const n of names) topics.delete(n);
    },
  };
}

const props = (topics: Record<string, number>, extra: Partial<TopicsResourceProperties> = {}): TopicsResourceProperties => ({
  // CloudFormation hands every scalar over as a string.
  Topics: Object.entries(topics).map(([Name, p]) => ({ Name, Partitions: String(p) })),
  BootstrapBrokers: 'b-1:9098',
  ...extra,
});
const event = (RequestType: TopicsEvent['RequestType'], p: TopicsResourceProperties, old?: TopicsResourceProperties): TopicsEvent => ({
  RequestType,
  LogicalResourceId: 'Topics',
  ...(RequestType === 'Create' ? {} : { PhysicalResourceId: 'weir-topics-Topics' }),
  ResourceProperties: p,
  ...(old ? { OldResourceProperties: old } : {}),
});

describe('applyTopics', () => {
  test('creates missing topics, grows short ones, leaves equal ones', async () => {
    const admin = memoryAdmin({ a: 4, b: 2 });
    const res = await applyTopics(admin, [{ name: 'a', partitions: 4 }, { name: 'b', partitions: 6 }, { name: 'c', partitions: 3 }]);
    expect(res).toEqual({ created: ['c'], grown: ['b'], unchanged: ['a'] });
    expect(admin.calls).toEqual(['create c:3', 'grow b:6']);
    expect(Object.fromEntries(admin.topics)).toEqual({ a: 4, b: 6, c: 3 });
  });

  test('is idempotent: a second run changes nothing', async () => {
    const admin = memoryAdmin();
    const want = [{ name: 'x', partitions: 4 }];
    await applyTopics(admin, want);
    admin.calls.length = 0;
    expect(await applyTopics(admin, want)).toEqual({ created: [], grown: [], unchanged: ['x'] });
    expect(admin.calls).toEqual([]);
  });

  test('refuses to shrink, naming every topic, before changing anything', async () => {
    const admin = memoryAdmin({ a: 8, b: 4 });
    await expect(applyTopics(admin, [{ name: 'new', partitions: 1 }, { name: 'a', partitions: 4 }, { name: 'b', partitions: 2 }])).rejects.toThrow(
      'Kafka topics cannot lose partitions: "a" has 8 partitions, asked for 4; "b" has 4 partitions, asked for 2. Keep the partition count (or raise it), or create a new topic under another name',
    );
    expect(admin.calls).toEqual([]);
  });

  test('rejects duplicates and bad partition counts', async () => {
    await expect(applyTopics(memoryAdmin(), [{ name: 'a', partitions: 1 }, { name: 'a', partitions: 2 }])).rejects.toThrow('topic "a" is listed twice');
    await expect(applyTopics(memoryAdmin(), [{ name: 'a', partitions: 0 }])).rejects.toThrow('topic "a": partitions must be a positive integer, got 0');
  });
});

describe('onTopicsEvent (CloudFormation lifecycle)', () => {
  test('Create then Update with more partitions and a new topic', async () => {
    const admin = memoryAdmin();
    const created = await onTopicsEvent(event('Create', props({ 'p-s1-repartition': 4, 'p-dlq': 1 })), admin);
    expect(created).toEqual({ PhysicalResourceId: 'weir-topics-Topics', Data: { Created: 'p-s1-repartition,p-dlq', Grown: '', Deleted: '' } });
    const updated = await onTopicsEvent(event('Update', props({ 'p-s1-repartition': 8, 'p-dlq': 1, 'p-late': 2 }), props({ 'p-s1-repartition': 4, 'p-dlq': 1 })), admin);
    expect(updated.PhysicalResourceId).toBe('weir-topics-Topics');
    expect(updated.Data).toEqual({ Created: 'p-late', Grown: 'p-s1-repartition', Deleted: '' });
  });

  test('Update asking fewer partitions fails and leaves the cluster as it was', async () => {
    const admin = memoryAdmin({ t: 8 });
    await expect(onTopicsEvent(event('Update', props({ t: 4 }), props({ t: 8 })), admin)).rejects.toThrow(/cannot lose partitions: "t" has 8 partitions, asked for 4/);
    expect(admin.topics.get('t')).toBe(8);
  });

  test('Delete retains topics by default', async () => {
    const admin = memoryAdmin({ t: 4 });
    const res = await onTopicsEvent(event('Delete', props({ t: 4 })), admin);
    expect(res.Data.Deleted).toBe('');
    expect(admin.calls).toEqual([]);
    expect(admin.topics.has('t')).toBe(true);
  });

  test('RemovalPolicy destroy deletes on Delete, and drops topics removed by an Update', async () => {
    const admin = memoryAdmin({ a: 1, b: 1 });
    const upd = await onTopicsEvent(event('Update', props({ a: 1 }, { RemovalPolicy: 'destroy' }), props({ a: 1, b: 1 }, { RemovalPolicy: 'destroy' })), admin);
    expect(upd.Data.Deleted).toBe('b');
    const del = await onTopicsEvent(event('Delete', props({ a: 1 }, { RemovalPolicy: 'destroy' })), admin);
    expect(del.Data.Deleted).toBe('a');
    expect(admin.topics.size).toBe(0);
  });

  test('a bad RemovalPolicy is a config error', async () => {
    await expect(onTopicsEvent(event('Create', props({ a: 1 }, { RemovalPolicy: 'snapshot' })), memoryAdmin())).rejects.toThrow('RemovalPolicy must be "retain" or "destroy", got "snapshot"');
  });
});
