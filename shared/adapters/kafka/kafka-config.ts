import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { ConfigError } from '../../runtime/errors';

/** How a Weir process reaches Kafka: plaintext locally; TLS with SASL (IAM via OAUTHBEARER, or SCRAM) on MSK. */
export interface KafkaConnection {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  readonly ssl?: boolean;
  /** A kafkajs SASL mechanism, e.g. an OAUTHBEARER provider that signs MSK IAM tokens. */
  readonly sasl?: SASLOptions;
  /** Prefix of every physical topic name (fresh names per local run). */
  readonly topicPrefix?: string;
}

export function parseBrokers(text: string | undefined, field: string): string[] {
  const brokers = (text ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!brokers.length) throw new ConfigError(`${field} is empty; set it to host:port[,host:port...] of the Kafka bootstrap brokers`);
  return brokers;
}

export function createKafka(c: KafkaConnection): Kafka {
  const config: KafkaConfig = {
    clientId: c.clientId ?? 'weir',
    brokers: [...c.brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5000 },
    ...(c.ssl ? { ssl: true } : {}),
    ...(c.sasl ? { sasl: c.sasl } : {}),
  };
  return new Kafka(config);
}
