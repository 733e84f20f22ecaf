import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/**
 * A DynamoDB client for the hot path. The SDK's logger middleware redacts every request and
 * response through the operation schemas for a log line that its default logger never writes:
 * 5 % of a keyed stage's CPU in the benchmark's profile. Weir logs through Powertools, so it goes.
 */
export function createDynamoClient(config: DynamoDBClientConfig): DynamoDBClient {
  const client = new DynamoDBClient(config);
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
