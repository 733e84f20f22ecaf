import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KafkaDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Aws } from 'aws-cdk-lib';
import { Construct, type IDependable } from 'constructs';
import type { StageBundle } from '../shared/build/bundle';
import { acknowledge } from './acknowledge';
import { FunctionRole } from './function-role';
import type { KafkaConnection } from './props';
import type { StageAccess } from './stage-access';
import type { ResolvedStageSettings } from './stage-settings';

export interface WeirStageProps {
  readonly pipeline: string;
  readonly access: StageAccess;
  readonly settings: ResolvedStageSettings;
  readonly bundle: StageBundle;
  readonly kafka: KafkaConnection;
  readonly stateTableArn: string;
  readonly progressTableArn: string;
  readonly tableNames: { readonly state: string; readonly progress: string };
  readonly defaultPartitions: number;
  readonly metricsNamespace: string;
  readonly logRetention?: logs.RetentionDays;
  readonly architecture: lambda.Architecture;
  readonly tracing: lambda.Tracing;
  /** Created before the mappings (the topics they read and fail to). */
  readonly topics: IDependable;
}

/**
 * DynamoDB actions of the commit log and progress store: consistent reads of a partition's
 * head, snapshot parts and log tail (GetItem, Query), conditional puts of commits, snapshot
 * parts, heads and progress (PutItem), and removal of replaced parts (DeleteItem).
 */
export const STATE_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:DeleteItem'] as const;

/**
 * One stage: its Lambda function (the `bundlePipeline` bundle of the stage, Node.js 22), one MSK
 * event source mapping per input topic, and a role that may touch only what the stage touches.
 */
export class WeirStage extends Construct {
  readonly function: lambda.Function;
  readonly mappings: lambda.EventSourceMapping[] = [];
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: WeirStageProps) {
    super(scope, id);
    const { access, settings } = props;
    const { arns } = props.kafka;
    const stage = access.stage.id;
    const fr = new FunctionRole(this, 'Role', { description: `Weir ${props.pipeline} stage ${stage}`, vpc: true, ...(props.logRetention ? { logRetention: props.logRetention } : {}) });
    this.role = fr.role;
    for (const s of stageStatements(props)) this.role.addToPrincipalPolicy(s);
    if (props.kafka.auth.kind === 'scram') props.kafka.auth.secret.grantRead(this.role);

    this.function = new lambda.Function(this, 'Function', {
      // A fixed name, so `weir dev --lambda-endpoint` finds a deployed stage as weir-{pipeline}-{stage}.
      functionName: `weir-${props.pipeline}-${stage}`,
      description: `Weir ${props.pipeline} stage ${stage}: ${access.readTopics.join(', ')}`,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(props.bundle.dir),
      memorySize: settings.memorySize,
      timeout: settings.timeout,
      role: this.role,
      logGroup: fr.logGroup,
      tracing: props.tracing,
      vpc: props.kafka.vpc,
      vpcSubnets: props.kafka.subnets,
      securityGroups: [...props.kafka.securityGroups],
      environment: {
        WEIR_STAGE: stage,
        WEIR_PARTITIONS: String(props.defaultPartitions),
        WEIR_STATE_TABLE: props.tableNames.state,
        WEIR_PROGRESS_TABLE: props.tableNames.progress,
        WEIR_KAFKA_AUTH: props.kafka.auth.kind,
        ...(props.kafka.auth.kind === 'scram' ? { WEIR_KAFKA_SCRAM_SECRET_ARN: props.kafka.auth.secret.secretArn } : {}),
        WEIR_BROKERS: props.kafka.bootstrapBrokers,
        WEIR_METRICS_NAMESPACE: props.metricsNamespace,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    acknowledge(this.function, [
      ['AwsSolutions-L1', 'Node.js 22 on purpose: the stage bundles are built for node22 (shared/build/bundle.ts), the runtime the local emulator and tests reproduce.'],
      ['Serverless-LambdaLatestVersion', 'Node.js 22 on purpose: the stage bundles are built for node22 (shared/build/bundle.ts), the runtime the local emulator and tests reproduce.'],
    ]);
    // The role's inline policy (ENI permissions Lambda checks at create time) is part of the role the function references.
    const defaultPolicy = this.role.node.tryFindChild('DefaultPolicy');

    for (const g of access.groups) {
      const mapping = new lambda.EventSourceMapping(this, `Mapping-${g.topic}`, {
        target: this.function,
        eventSourceArn: arns.cluster,
        kafkaTopic: g.topic,
        kafkaConsumerGroupId: g.groupId,
        batchSize: settings.batchSize,
        maxBatchingWindow: settings.batchingWindow,
        startingPosition: settings.startingPosition,
        ...(settings.startingPositionTimestamp !== undefined ? { startingPositionTimestamp: settings.startingPositionTimestamp } : {}),
        ...(settings.pollers ? { provisionedPollerConfig: { minimumPollers: settings.pollers.min, maximumPollers: settings.pollers.max } } : {}),
        ...(settings.onFailure.kind === 'failed-topic' ? { onFailure: new KafkaDlq(access.failedTopic) } : {}),
        ...(settings.onFailure.kind === 'destination' ? { onFailure: settings.onFailure.destination } : {}),
        ...(settings.retryAttempts !== undefined ? { retryAttempts: settings.retryAttempts } : {}),
        ...(props.kafka.auth.kind === 'scram'
          ? { sourceAccessConfigurations: [{ type: lambda.SourceAccessConfigurationType.SASL_SCRAM_512_AUTH, uri: props.kafka.auth.secret.secretArn }] }
          : {}),
      });
      // aws-cdk#17412: a mapping created before its role's policy fails its first poll for good.
      if (defaultPolicy) mapping.node.addDependency(defaultPolicy);
      mapping.node.addDependency(props.topics);
      if (settings.onFailure.kind === 'none') {
        acknowledge(mapping, [
          ['Serverless-LambdaEventSourceMappingDestination', `Stage ${stage} runs in on-demand mode, where AWS offers no retry limit for Kafka mappings: a failing batch is retried until it succeeds (bad records never fail a batch, they go to the dead-letter topic). Set pollers (provisioned mode) to get the ${access.failedTopic} destination, or pass onFailure.`],
        ]);
      }
      this.mappings.push(mapping);
    }
  }
}

/** The stage's least-privilege statements: Kafka by topic and group ARN, DynamoDB by table ARN. */
export function stageStatements(props: WeirStageProps): iam.PolicyStatement[] {
  const { access } = props;
  const { arns } = props.kafka;
  const tableArn = (name: string): string => `arn:${Aws.PARTITION}:dynamodb:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/${name}`;
  const statements = [
    new iam.PolicyStatement({
      sid: 'KafkaCluster',
      actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster', 'kafka-cluster:DescribeClusterDynamicConfiguration', 'kafka-cluster:WriteDataIdempotently'],
      resources: [arns.cluster],
    }),
    // The event source mapping's own calls, with the function's role (AWS: kafka:DescribeClusterV2 for Serverless).
    new iam.PolicyStatement({
      sid: 'MskMapping',
      actions: ['kafka:DescribeClusterV2', 'kafka:DescribeCluster', 'kafka:GetBootstrapBrokers', ...(props.kafka.auth.kind === 'scram' ? ['kafka:ListScramSecrets'] : [])],
      resources: [arns.cluster],
    }),
    new iam.PolicyStatement({ sid: 'KafkaRead', actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resources: access.readTopics.map((t) => arns.topic(t)) }),
    new iam.PolicyStatement({ sid: 'KafkaWrite', actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:WriteData'], resources: access.writeTopics.map((t) => arns.topic(t)) }),
    new iam.PolicyStatement({ sid: 'KafkaGroups', actions: ['kafka-cluster:AlterGroup', 'kafka-cluster:DescribeGroup'], resources: access.groups.map((g) => arns.group(g.groupId)) }),
    new iam.PolicyStatement({ sid: 'StateTables', actions: [...STATE_TABLE_ACTIONS], resources: [props.stateTableArn, props.progressTableArn] }),
  ];
  if (access.sinkTables.length) {
    statements.push(new iam.PolicyStatement({ sid: 'SinkTables', actions: ['dynamodb:PutItem'], resources: access.sinkTables.map(tableArn) }));
  }
  return statements;
}
