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

/** Signs one MSK IAM auth token for `region`; the default uses the AWS default credential chain. */
export type MskTokenSigner = (region: string) => Promise<{ readonly token: string; readonly expiryTime: number }>;

/**
 * SASL/OAUTHBEARER with MSK IAM tokens (aws-msk-iam-sasl-signer-js), for TLS listeners on
 * port 9098. kafkajs calls the provider on every (re)authentication, so tokens never go stale.
 */
export function mskIamSasl(region: string, signer?: MskTokenSigner): SASLOptions {
  const sign: MskTokenSigner =
    signer ??
    (async (r) => {
      // Loaded on first use: plaintext local runs never pull in the signer and its AWS SDK deps.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { generateAuthToken } = require('aws-msk-iam-sasl-signer-js') as typeof import('aws-msk-iam-sasl-signer-js');
      return generateAuthToken({ region: r });
    });
  return {
    mechanism: 'oauthbearer',
    oauthBearerProvider: async () => ({ value: (await sign(region)).token }),
  };
}
