import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Pipeline } from '../shared/api/pipeline';
import type { StageBundle } from '../shared/build/bundle';
import type { KafkaArns } from './kafka-arns';

/** An MSK cluster (provisioned or serverless) that already exists. */
export interface ExistingClusterProps {
  readonly kind: 'existing';
  /** `arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>`; topic and group ARNs are built from it. */
  readonly clusterArn: string;
  /** The cluster's VPC; e.g. `ec2.Vpc.fromVpcAttributes(...)` (works offline, unlike `fromLookup`). */
  readonly vpc: ec2.IVpc;
  /** Subnets of the stage functions: private, with a route to the brokers and to DynamoDB (gateway endpoint or NAT). */
  readonly subnets: ec2.SubnetSelection;
  /** Security groups of the stage functions; the brokers must accept them on 9098 (IAM) or 9096 (SCRAM). */
  readonly securityGroups: readonly ec2.ISecurityGroup[];
  /**
   * Bootstrap brokers (`host:port,...`) for the functions and the topics resource.
   * @default looked up at deploy time with kafka:GetBootstrapBrokers (an AwsCustomResource)
   */
  readonly bootstrapBrokers?: string;
}

/** A new MSK Serverless cluster (IAM auth) in a new VPC, made by the construct. */
export interface NewClusterProps {
  readonly kind: 'new';
  /** @default `weir-<pipeline>` */
  readonly clusterName?: string;
  /** Availability zones of the new VPC (MSK Serverless needs at least 2). @default 2 */
  readonly maxAzs?: number;
}

export type ClusterProps = ExistingClusterProps | NewClusterProps;

/** How functions and event source mappings authenticate to the brokers. */
export type KafkaAuthProps =
  | { readonly kind: 'iam' }
  /** SASL/SCRAM-SHA-512 with a Secrets Manager secret `{username, password}` (name starting with `AmazonMSK_`, customer-managed KMS key). */
  | { readonly kind: 'scram'; readonly secret: secretsmanager.ISecret };

/** How a function reaches the cluster: what the stage functions and the topics helper share. */
export interface KafkaConnection {
  readonly arns: KafkaArns;
  readonly bootstrapBrokers: string;
  readonly auth: KafkaAuthProps;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroups: readonly ec2.ISecurityGroup[];
}

/** Where the event source mapping sends a batch it gave up on. */
export type OnFailureProps =
  /** The per-stage Kafka topic `<pipeline>-<stage>-failed` (as the local emulator does). */
  | { readonly kind: 'failed-topic' }
  /** Retry until the records expire; no destination. */
  | { readonly kind: 'none' }
  /** Any event source destination (SQS, SNS, S3, Kafka); its `bind` grants the function's role. */
  | { readonly kind: 'destination'; readonly destination: lambda.IEventSourceDlq };

/**
 * Deployment settings of one stage. Each unset field falls back to the stage's DSL settings
 * (`startNewStage({...})`), then to the built-in default named here.
 */
export interface StageOverrides {
  /** Records per invocation (MSK ESM BatchSize), 1..10000. @default DSL batchSize, else 100 */
  readonly batchSize?: number;
  /** How long the mapping gathers records before invoking, 0..300 s. @default DSL batchingWindowSeconds, else 0 */
  readonly batchingWindow?: Duration;
  /** Where a new consumer group starts. @default the source's startingPosition for a source stage; TRIM_HORIZON for internal topics */
  readonly startingPosition?: lambda.StartingPosition;
  /** Unix seconds, with startingPosition AT_TIMESTAMP. @default the source's `atTimestamp` (ms) / 1000 */
  readonly startingPositionTimestamp?: number;
  /** Lambda memory in MB, 128..10240. @default DSL memoryMb, else 512 */
  readonly memorySize?: number;
  /** Lambda timeout, 1..900 s. @default DSL timeoutSeconds, else 60 s */
  readonly timeout?: Duration;
  /**
   * Provisioned pollers (the mapping's provisioned mode, event-driven autoscaling between min
   * and max): min 1..200, max 1..2000, min <= max. `'on-demand'` switches provisioned mode off.
   * @default DSL pollers, else on-demand
   */
  readonly pollers?: { readonly min: number; readonly max: number } | 'on-demand';
  /**
   * What happens to a batch that keeps failing.
   * @default failed-topic when the stage runs in provisioned mode (AWS offers Kafka destinations and retry limits there), else none
   */
  readonly onFailure?: OnFailureProps;
  /** Retries before the on-failure destination, 0..10000 (provisioned mode). @default 10 with a destination, else unset (infinite) */
  readonly retryAttempts?: number;
}

export interface AlarmProps {
  /** Alarm when a mapping's OffsetLag (Maximum over 1 min) stays above this for 5 minutes. @default 10000 */
  readonly offsetLagThreshold?: number;
  /** Alarm when a stage function has at least this many errors in 5 minutes. @default 1 */
  readonly errorThreshold?: number;
  /** Alarm when a stage sends at least this many records to the dead-letter topic in 5 minutes. @default 1 */
  readonly dlqThreshold?: number;
  /** Actions of every alarm (e.g. an SNS topic action). @default none */
  readonly actions?: readonly cloudwatch.IAlarmAction[];
}

export interface WeirPipelineProps {
  /** The pipeline, as `loadPipeline(pipelineFile)` returns it. */
  readonly pipeline: Pipeline;
  /** The pipeline module (a `.ts` file whose default export is the pipeline): the bundles import it. */
  readonly pipelineFile: string;
  /**
   * Stage bundles already built by `bundlePipeline` (app.ts builds them and prints their sizes).
   * @default built at synth time with the same esbuild options (`stageBuildOptions`) into `bundleDir`
   */
  readonly bundles?: readonly StageBundle[];
  /** Where bundles are written when `bundles` is not given, as `bundlePipeline`'s outDir. @default 'build' */
  readonly bundleDir?: string;
  /** The MSK cluster. @default { kind: 'new' }: MSK Serverless in a new VPC */
  readonly cluster?: ClusterProps;
  /** @default { kind: 'iam' } */
  readonly auth?: KafkaAuthProps;
  /** Partitions of topics that do not set their own (and WEIR_PARTITIONS). @default 4 */
  readonly defaultPartitions?: number;
  /** Settings applied to every stage, under `stages`. @default none */
  readonly allStages?: StageOverrides;
  /** Per-stage settings by stage id (`s0`, `s1`, ...; see `weir plan`). @default none */
  readonly stages?: Readonly<Record<string, StageOverrides>>;
  /** State and progress tables. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** Topics when the stack (or the topics resource) is deleted. @default 'retain' */
  readonly topicRemovalPolicy?: 'retain' | 'destroy';
  /** Whether the topics resource also creates the pipeline's source topics. @default true for a new cluster, false for an existing one */
  readonly createSourceTopics?: boolean;
  /**
   * Which stages the EventBridge schedule ticks (`{weir:'tick'}`): 'auto' the stages that need it
   * (sources with idleness, processing-time windows, process functions), 'all', or 'none'.
   * @default 'auto'
   */
  readonly ticker?: 'auto' | 'all' | 'none';
  /** @default Duration.minutes(1) */
  readonly tickInterval?: Duration;
  /** CloudWatch namespace of the stage metrics. @default 'Weir' */
  readonly metricsNamespace?: string;
  /** @default see AlarmProps */
  readonly alarms?: AlarmProps;
  /** Retention of every function's log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** @default lambda.Architecture.ARM_64 (the bundles are plain JavaScript) */
  readonly architecture?: lambda.Architecture;
  /** @default lambda.Tracing.DISABLED */
  readonly tracing?: lambda.Tracing;
}
