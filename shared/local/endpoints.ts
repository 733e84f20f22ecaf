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
