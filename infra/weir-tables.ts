import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { STATE_TTL_ATTRIBUTE, tableDefinitions, type WeirTableNames } from '../shared/adapters/dynamodb/tables';

export interface WeirTablesProps {
  readonly names: WeirTableNames;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The state (pk S + sk S, TTL `ttl`) and progress (pk S) tables, with the key schema of
 * `tableDefinitions` (the one the adapters and `ensureTables` use): on-demand, point-in-time
 * recovery, AWS-managed encryption, retained on delete by default.
 */
export class WeirTables extends Construct {
  readonly state: dynamodb.Table;
  readonly progress: dynamodb.Table;

  constructor(scope: Construct, id: string, props: WeirTablesProps) {
    super(scope, id);
    const defs = tableDefinitions(props.names);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    this.state = new dynamodb.Table(this, 'State', { ...common, ...keys(defs.state), tableName: props.names.state, timeToLiveAttribute: STATE_TTL_ATTRIBUTE });
    this.progress = new dynamodb.Table(this, 'Progress', { ...common, ...keys(defs.progress), tableName: props.names.progress });
  }
}

type Def = ReturnType<typeof tableDefinitions>['state'];

/** partitionKey / sortKey of a CreateTable input. */
export function keys(def: Def): { partitionKey: dynamodb.Attribute; sortKey?: dynamodb.Attribute } {
  const attr = (type: 'HASH' | 'RANGE'): dynamodb.Attribute | undefined => {
    const name = def.KeySchema?.find((k) => k.KeyType === type)?.AttributeName;
    if (!name) return undefined;
    const t = def.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
    return { name, type: t === 'N' ? dynamodb.AttributeType.NUMBER : t === 'B' ? dynamodb.AttributeType.BINARY : dynamodb.AttributeType.STRING };
  };
  const pk = attr('HASH');
  if (!pk) throw new Error(`table ${def.TableName} has no HASH key in tableDefinitions`);
  const sk = attr('RANGE');
  return { partitionKey: pk, ...(sk ? { sortKey: sk } : {}) };
}
