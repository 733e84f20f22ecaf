#!/usr/bin/env node
// Weir local services: end-to-end smoke test against the running local services.
//   node scripts/local/smoke.js [--kafka HOST:PORT] [--dynamodb URL] [--keep]
// Kafka: creates a topic, produces one message, consumes it back with a consumer group.
// DynamoDB Local: creates a table, PutItem, GetItem (consistent read).
// Cleans up (deletes topic and table) unless --keep. Exit 0 on success.
'use strict';

const path = require('path');
const { createRequire } = require('module');

// The AWS SDK's "Node 20 support ends in 2027" notice is noise here.
if (!process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
if (!process.env.KAFKAJS_NO_PARTITIONER_WARNING) process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';

const repoRequire = createRequire(path.join(path.resolve(__dirname, '..', '..'), 'package.json'));
const { Kafka, logLevel } = repoRequire('kafkajs');
const {
  DynamoDBClient, CreateTableCommand, PutItemCommand, GetItemCommand, DeleteTableCommand,
} = repoRequire('@aws-sdk/client-dynamodb');

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const broker = arg('--kafka', `127.0.0.1:${process.env.WEIR_KAFKA_PORT || 9092}`);
const endpoint = arg('--dynamodb', `http://127.0.0.1:${process.env.WEIR_DYNAMODB_PORT || 8000}`);
const keep = args.includes('--keep');
const suffix = `${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
const t = () => new Date().toISOString().slice(11, 23);
const log = (m) => console.log(`[smoke ${t()}] ${m}`);

async function kafkaSmoke() {
  const kafka = new Kafka({ clientId: 'weir-local-smoke', brokers: [broker], logLevel: logLevel.WARN });
  const topic = `weir-local-smoke-${suffix}`;
  const admin = kafka.admin();
  await admin.connect();
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
  log(`kafka: topic ${topic} created=${created}`);

  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
  await producer.connect();
  const value = JSON.stringify({ hello: 'weir', at: Date.now() });
  const [meta] = await producer.send({ topic, acks: -1, messages: [{ key: 'k1', value }] });
  log(`kafka: produced to partition ${meta.partition} offset ${meta.baseOffset}`);
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `weir-local-smoke-${suffix}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message consumed within 30s')), 30000);
    consumer.run({
      eachMessage: async ({ message, partition }) => {
        clearTimeout(timer);
        resolve({ key: message.key.toString(), value: message.value.toString(), partition, offset: message.offset });
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  if (got.value !== value || got.key !== 'k1') throw new Error(`consumed something else: ${JSON.stringify(got)}`);
  log(`kafka: consumed back key=${got.key} value=${got.value} (partition ${got.partition} offset ${got.offset})`);

  if (!keep) await admin.deleteTopics({ topics: [topic] });
  await admin.disconnect();
}

async function dynamoSmoke() {
  const ddb = new DynamoDBClient({
    region: 'us-east-1', endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const TableName = `weir-local-smoke-${suffix}`;
  await ddb.send(new CreateTableCommand({
    TableName,
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  }));
  log(`dynamodb: table ${TableName} created`);
  await ddb.send(new PutItemCommand({ TableName, Item: { pk: { S: 'a' }, n: { N: '42' }, s: { S: 'weir' } } }));
  const out = await ddb.send(new GetItemCommand({ TableName, Key: { pk: { S: 'a' } }, ConsistentRead: true }));
  if (!out.Item || out.Item.n.N !== '42' || out.Item.s.S !== 'weir') throw new Error(`GetItem returned ${JSON.stringify(out.Item)}`);
  log(`dynamodb: put/get ok: ${JSON.stringify(out.Item)}`);
  if (!keep) await ddb.send(new DeleteTableCommand({ TableName }));
  ddb.destroy();
}

(async () => {
  const t0 = Date.now();
  await Promise.all([kafkaSmoke(), dynamoSmoke()]);
  log(`OK in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
})().catch((e) => {
  console.error(`[smoke] FAILED: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
