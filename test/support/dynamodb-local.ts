import { localDynamoEndpoint } from '../../shared/local/endpoints';
import { randomBytes } from 'crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, ListTablesCommand, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/** DynamoDB Local as started by `npm run local:up` (scripts/local/up.sh). */
export const DYNAMODB_LOCAL_ENDPOINT = localDynamoEndpoint();

export function localDynamoClient(config: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return new DynamoDBClient({
    region: 'us-east-1',
    endpoint: DYNAMODB_LOCAL_ENDPOINT,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...config,
  });
}

/** Throws (so the test fails, never skips) when DynamoDB Local does not answer. */
export async function requireDynamoDbLocal(client: DynamoDBClient): Promise<void> {
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(5000) });
  } catch (err) {
    const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new Error(`DynamoDB Local is not reachable at ${DYNAMODB_LOCAL_ENDPOINT} (${why}). Start it with \`npm run local:up\` and run the tests again.`);
  }
}

/** A fresh table name for one test file: `weir-test-<prefix>-<random>`. */
export function randomTableName(prefix: string): string {
  return `weir-test-${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A table keyed by `id` (S), as a dynamoSink table. */
export async function createSinkTable(client: DynamoDBClient, table: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
}

export async function deleteTables(client: DynamoDBClient, tables: readonly string[]): Promise<void> {
  for (const t of tables) {
    try {
      await client.send(new DeleteTableCommand({ TableName: t }));
    } catch {
      // already gone (DynamoDB Local restarted, or never created)
    }
  }
}
