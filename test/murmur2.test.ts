import { Partitioners } from 'kafkajs';
import { partitionForKey } from '../shared/runtime/murmur2';
import { prng } from '../shared/local/chaos';

describe('murmur2 partitioning', () => {
  it('matches the Java client partitioner (kafkajs JavaCompatiblePartitioner) on many keys and partition counts', () => {
    const java = Partitioners.JavaCompatiblePartitioner();
    const rand = prng(42);
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-é日本';
    for (let i = 0; i < 2000; i++) {
      const len = Math.floor(rand() * 20);
      let key = '';
      for (let j = 0; j < len; j++) key += alphabet[Math.floor(rand() * alphabet.length)];
      const n = 1 + Math.floor(rand() * 64);
      const partitionMetadata = Array.from({ length: n }, (_, p) => ({ partitionId: p, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      const expected = java({ topic: 't', partitionMetadata, message: { key, value: 'v' } });
      expect([key, n, partitionForKey(key, n)]).toEqual([key, n, expected]);
    }
  });
});
