import type { Admin } from 'kafkajs';
import type { TopicAdmin, TopicSpec } from './topics-resource';

/**
 * The TopicAdmin port on a connected kafkajs admin. Replication is left to the cluster
 * (MSK Serverless fixes it at 3; provisioned MSK uses default.replication.factor).
 */
export function kafkajsTopicAdmin(admin: Admin, options: { readonly replicationFactor?: number } = {}): TopicAdmin {
  return {
    async partitionCounts(names) {
      const all = new Set(await admin.listTopics());
      const present = names.filter((n) => all.has(n));
      if (!present.length) return new Map();
      const md = await admin.fetchTopicMetadata({ topics: present });
      return new Map(md.topics.map((t) => [t.name, t.partitions.length]));
    },
    async createTopics(topics: readonly TopicSpec[]) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: topics.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: options.replicationFactor ?? -1 })),
      });
    },
    async createPartitions(topics: readonly TopicSpec[]) {
      await admin.createPartitions({ topicPartitions: topics.map((t) => ({ topic: t.name, count: t.partitions })) });
    },
    async deleteTopics(names) {
      await admin.deleteTopics({ topics: [...names] });
    },
  };
}
