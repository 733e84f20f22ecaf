import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The local services' addresses. They follow the knobs `scripts/local/up.sh` reads
 * (WEIR_KAFKA_PORT, WEIR_DYNAMODB_PORT), so a second stack on other ports is used by every
 * command and test started with the same environment.
 */
export function localBrokers(): string {
  return `127.0.0.1:${process.env.WEIR_KAFKA_PORT ?? '9092'}`;
}

export function localDynamoEndpoint(): string {
  return `http://127.0.0.1:${process.env.WEIR_DYNAMODB_PORT ?? '8000'}`;
}

/** DynamoDB Local takes any credentials; the SDK only needs some. */
export const LOCAL_AWS = { region: 'us-east-1', accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** A DynamoDB client of the local service at `endpoint`. */
export function localDynamoClient(endpoint: string = localDynamoEndpoint()): DynamoDBClient {
  return new DynamoDBClient({ region: LOCAL_AWS.region, endpoint, credentials: { accessKeyId: LOCAL_AWS.accessKeyId, secretAccessKey: LOCAL_AWS.secretAccessKey } });
}
