import { createKafka, parseBrokers } from '../shared/adapters/kafka/kafka-config';
import { kafkaSecurity } from './kafka-auth';
import { kafkajsTopicAdmin } from './kafka-topic-admin';
import { onTopicsEvent, type TopicsEvent, type TopicsResponse } from './topics-resource';

/**
 * Lambda entry of the topics custom resource (CDK provider framework `onEvent`): connects a
 * kafkajs admin to the brokers in the resource's properties (IAM or SCRAM over TLS) and runs
 * `onTopicsEvent`. It logs topic names and counts only.
 */
export async function handler(event: TopicsEvent): Promise<TopicsResponse> {
  const props = event.ResourceProperties;
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const env = { WEIR_KAFKA_AUTH: props.Auth ?? 'iam', ...(props.ScramSecretArn ? { WEIR_KAFKA_SCRAM_SECRET_ARN: props.ScramSecretArn } : {}) };
  const kafka = createKafka({
    brokers: parseBrokers(props.BootstrapBrokers, 'BootstrapBrokers'),
    clientId: 'weir-topics',
    ...(await kafkaSecurity(env, region)),
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const res = await onTopicsEvent(event, kafkajsTopicAdmin(admin));
    console.log(JSON.stringify({ request: event.RequestType, ...res.Data }));
    return res;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
