import type { SASLOptions } from 'kafkajs';
import { mskIamSasl, type MskTokenSigner } from '../shared/adapters/kafka/kafka-config';
import { ConfigError } from '../shared/runtime/errors';

/**
 * How a stage function authenticates to Kafka, from its environment:
 *
 *   WEIR_KAFKA_AUTH=none   plaintext (local broker, the emulator)
 *   WEIR_KAFKA_AUTH=iam    TLS + SASL/OAUTHBEARER with MSK IAM tokens (port 9098)
 *   WEIR_KAFKA_AUTH=scram  TLS + SASL/SCRAM-SHA-512, credentials from the Secrets Manager
 *                          secret named by WEIR_KAFKA_SCRAM_SECRET_ARN (port 9096)
 */
export type KafkaAuthMode = 'none' | 'iam' | 'scram';

export interface KafkaSecurity {
  readonly ssl?: boolean;
  readonly sasl?: SASLOptions;
}

/** Reads a Secrets Manager secret's string. The default uses the SDK that Lambda's Node.js runtime ships. */
export type SecretReader = (secretArn: string, region: string) => Promise<string>;

export function readKafkaAuthMode(env: NodeJS.ProcessEnv): KafkaAuthMode {
  const auth = env.WEIR_KAFKA_AUTH ?? 'none';
  if (auth !== 'none' && auth !== 'iam' && auth !== 'scram') {
    throw new ConfigError(`WEIR_KAFKA_AUTH must be "none", "iam" or "scram", got "${auth}"`);
  }
  return auth;
}

export async function kafkaSecurity(
  env: NodeJS.ProcessEnv,
  region: string,
  deps: { readonly signer?: MskTokenSigner; readonly readSecret?: SecretReader } = {},
): Promise<KafkaSecurity> {
  const mode = readKafkaAuthMode(env);
  if (mode === 'none') return {};
  if (mode === 'iam') return { ssl: true, sasl: mskIamSasl(region, deps.signer) };
  const arn = env.WEIR_KAFKA_SCRAM_SECRET_ARN;
  if (!arn) throw new ConfigError('WEIR_KAFKA_SCRAM_SECRET_ARN is not set; WEIR_KAFKA_AUTH=scram needs the ARN of a Secrets Manager secret {"username","password"}');
  const text = await (deps.readSecret ?? runtimeSecretReader)(arn, region);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`secret ${arn} is not JSON; MSK SCRAM secrets hold {"username":"...","password":"..."}`);
  }
  const { username, password } = (parsed ?? {}) as { username?: unknown; password?: unknown };
  if (typeof username !== 'string' || typeof password !== 'string') {
    throw new ConfigError(`secret ${arn} needs string fields "username" and "password"`);
  }
  return { ssl: true, sasl: { mechanism: 'scram-sha-512', username, password } };
}

interface SecretsManagerModule {
  SecretsManagerClient: new (config: { region: string }) => { send(command: unknown): Promise<{ SecretString?: string }> };
  GetSecretValueCommand: new (input: { SecretId: string }) => unknown;
}

const runtimeSecretReader: SecretReader = async (secretArn, region) => {
  // The Lambda Node.js 22 runtime ships the whole AWS SDK v3; bundles leave @aws-sdk/* external.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sm = require('@aws-sdk/client-secrets-manager') as SecretsManagerModule;
  const res = await new sm.SecretsManagerClient({ region }).send(new sm.GetSecretValueCommand({ SecretId: secretArn }));
  if (res.SecretString === undefined) throw new ConfigError(`secret ${secretArn} has no SecretString`);
  return res.SecretString;
};
