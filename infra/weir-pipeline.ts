import { Duration, Stack, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import type { StageBundle } from '../shared/build/bundle';
import { planPipeline } from '../shared/plan/planner';
import type { PipelinePlan } from '../shared/plan/types';
import { acknowledge } from './acknowledge';
import { WeirPropError } from './errors';
import { FunctionRole } from './function-role';
import { bundlePipelineSync } from './helper-bundle';
import { CLUSTER_ARN, kafkaArns, type KafkaArns } from './kafka-arns';
import type { KafkaAuthProps, WeirPipelineProps } from './props';
import { WeirServerlessCluster } from './serverless-cluster';
import { managedTopics, stageAccess } from './stage-access';
import { resolveStageSettings } from './stage-settings';
import { WeirMonitoring } from './weir-monitoring';
import { WeirStage } from './weir-stage';
import { WeirTables } from './weir-tables';
import { WeirTopics } from './weir-topics';

/** EventBridge takes at most 5 targets per rule. */
const TARGETS_PER_RULE = 5;

/**
 * A Weir pipeline on AWS: one Lambda function per stage on MSK event source mappings, the
 * intermediate/sink/late/dead-letter/failed topics (custom resource), the state and progress
 * tables, the ticker schedule, least-privilege roles, alarms and a dashboard.
 *
 * @example
 * const file = 'examples/windowed-wordcount.ts';
 * new WeirPipeline(stack, 'Wordcount', { pipeline: loadPipeline(file), pipelineFile: file });
 */
export class WeirPipeline extends Construct {
  readonly plan: PipelinePlan;
  readonly clusterArn: string;
  readonly bootstrapBrokers: string;
  /** Set when the construct made the cluster (`cluster: { kind: 'new' }`). */
  readonly serverlessCluster?: WeirServerlessCluster;
  readonly tables: WeirTables;
  readonly topics: WeirTopics;
  readonly stages: Readonly<Record<string, WeirStage>>;
  readonly bundles: readonly StageBundle[];
  readonly tickRules: readonly events.Rule[];
  readonly monitoring: WeirMonitoring;

  constructor(scope: Construct, id: string, props: WeirPipelineProps) {
    super(scope, id);
    const path = this.node.path;
    const p = props.pipeline;
    const defaultPartitions = props.defaultPartitions ?? 4;
    if (!Number.isInteger(defaultPartitions) || defaultPartitions < 1 || defaultPartitions > 2400) {
      throw new WeirPropError(path, 'defaultPartitions', defaultPartitions, 'must be an integer in 1..2400', 'set the partitions of topics that do not set their own');
    }
    if (!existsSync(props.pipelineFile)) {
      throw new WeirPropError(path, 'pipelineFile', props.pipelineFile, 'does not exist', 'pass the path of the .ts module whose default export is the pipeline');
    }
    this.plan = planPipeline(p, { defaultPartitions });
    const stageIds = this.plan.stages.map((s) => s.id);
    for (const key of Object.keys(props.stages ?? {})) {
      if (!stageIds.includes(key)) throw new WeirPropError(path, `stages.${key}`, key, `names no stage of pipeline "${p.name}"`, `use one of ${stageIds.join(', ')} (see \`npx weir plan\`)`);
    }
    const namespace = props.metricsNamespace ?? 'Weir';
    if (!/^[A-Za-z0-9._/#:-]{1,255}$/.test(namespace)) throw new WeirPropError(path, 'metricsNamespace', namespace, 'is not a CloudWatch namespace', 'use 1-255 of letters, digits and . _ / # : -');
    const auth: KafkaAuthProps = props.auth ?? { kind: 'iam' };
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const settings = Object.fromEntries(this.plan.stages.map((s) => [s.id, resolveStageSettings(path, p, s, props.allStages, props.stages?.[s.id])]));

    // Cluster and network.
    const cluster = props.cluster ?? { kind: 'new' as const };
    let network: { vpc: ec2.IVpc; subnets: ec2.SubnetSelection; securityGroups: readonly ec2.ISecurityGroup[] };
    if (cluster.kind === 'new') {
      if (auth.kind !== 'iam') throw new WeirPropError(path, 'auth.kind', auth.kind, 'is not available on MSK Serverless (IAM only)', 'use { kind: "iam" } or an existing provisioned cluster');
      const clusterName = cluster.clusterName ?? `weir-${p.name}`;
      if (!/^[a-zA-Z0-9-]{1,64}$/.test(clusterName)) throw new WeirPropError(path, 'cluster.clusterName', clusterName, 'is not an MSK cluster name', 'use 1-64 of letters, digits and -');
      this.serverlessCluster = new WeirServerlessCluster(this, 'Cluster', { clusterName, ...(cluster.maxAzs !== undefined ? { maxAzs: cluster.maxAzs } : {}) });
      this.clusterArn = this.serverlessCluster.clusterArn;
      network = { vpc: this.serverlessCluster.vpc, subnets: this.serverlessCluster.subnets, securityGroups: [this.serverlessCluster.securityGroup] };
    } else {
      if (!Token.isUnresolved(cluster.clusterArn) && !CLUSTER_ARN.test(cluster.clusterArn)) {
        throw new WeirPropError(path, 'cluster.clusterArn', cluster.clusterArn, 'is not an MSK cluster ARN', 'pass arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>');
      }
      if (!cluster.securityGroups.length) throw new WeirPropError(path, 'cluster.securityGroups', [], 'is empty', 'give the security groups that let the functions reach the brokers');
      this.clusterArn = cluster.clusterArn;
      network = { vpc: cluster.vpc, subnets: cluster.subnets, securityGroups: cluster.securityGroups };
    }
    const arns = kafkaArns(this.clusterArn);
    this.bootstrapBrokers = (cluster.kind === 'existing' ? cluster.bootstrapBrokers : undefined) ?? this.lookupBrokers(arns, auth, props);

    const kafka = { arns, bootstrapBrokers: this.bootstrapBrokers, auth, ...network };
    this.tables = new WeirTables(this, 'Tables', { names: this.plan.tables, ...(props.tableRemovalPolicy ? { removalPolicy: props.tableRemovalPolicy } : {}) });
    const bundleDir = props.bundleDir ?? 'build';
    this.topics = new WeirTopics(this, 'Topics', {
      topics: managedTopics(this.plan, { includeSources: props.createSourceTopics ?? cluster.kind === 'new' }),
      kafka,
      removalPolicy: props.topicRemovalPolicy ?? 'retain',
      bundleDir,
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      architecture,
    });

    this.bundles = props.bundles ?? bundlePipelineSync(p, props.pipelineFile, bundleDir);
    const stages: Record<string, WeirStage> = {};
    const access = stageAccess(p, this.plan);
    for (const a of access) {
      const bundle = this.bundles.find((b) => b.stage === a.stage.id);
      if (!bundle) throw new WeirPropError(path, 'bundles', this.bundles.map((b) => b.stage), `has no bundle for stage ${a.stage.id}`, 'pass the result of bundlePipeline() for this pipeline, or leave bundles unset');
      stages[a.stage.id] = new WeirStage(this, `Stage-${a.stage.id}`, {
        pipeline: p.name,
        access: a,
        settings: settings[a.stage.id] as ReturnType<typeof resolveStageSettings>,
        bundle,
        kafka,
        stateTableArn: this.tables.state.tableArn,
        progressTableArn: this.tables.progress.tableArn,
        tableNames: this.plan.tables,
        defaultPartitions,
        metricsNamespace: namespace,
        ...(props.logRetention ? { logRetention: props.logRetention } : {}),
        architecture,
        tracing: props.tracing ?? lambda.Tracing.DISABLED,
        topics: this.topics.resource,
      });
    }
    this.stages = stages;

    // Ticker: the stage bundles take {weir:'tick'}; EventBridge invokes them every minute.
    const mode = props.ticker ?? 'auto';
    const ticked = mode === 'none' ? [] : access.filter((a) => mode === 'all' || a.needsTicks).map((a) => stages[a.stage.id] as WeirStage);
    const rules: events.Rule[] = [];
    for (let i = 0; i < ticked.length; i += TARGETS_PER_RULE) {
      rules.push(
        new events.Rule(this, rules.length ? `Ticker${rules.length + 1}` : 'Ticker', {
          description: `Weir ${p.name}: ticks (idle sources, processing time)`,
          schedule: events.Schedule.rate(props.tickInterval ?? Duration.minutes(1)),
          targets: ticked.slice(i, i + TARGETS_PER_RULE).map(
            (s) => new targets.LambdaFunction(s.function, { event: events.RuleTargetInput.fromObject({ weir: 'tick' }), retryAttempts: 0, maxEventAge: Duration.minutes(1) }),
          ),
        }),
      );
    }
    this.tickRules = rules;

    this.monitoring = new WeirMonitoring(this, 'Monitoring', {
      pipeline: p.name,
      namespace,
      stages: access.map((a) => ({ id: a.stage.id, fn: (stages[a.stage.id] as WeirStage).function })),
      ...(props.alarms ? { alarms: props.alarms } : {}),
    });

    acknowledge(this, [
      ['Serverless-LambdaTracing', 'Tracing is a prop (tracing, default DISABLED): per-batch metrics and logs come from Powertools; X-Ray per invocation is extra cost for a stream processor.'],
      ['Serverless-LambdaDLQ', 'Stage functions are invoked synchronously by the MSK event source mapping (failed batches go to its on-failure destination); the only asynchronous invocation is the ticker, whose next tick a minute later replaces a lost one.'],
      ['Serverless-LambdaAsyncFailureDestination', 'The only asynchronous invocation is the ticker, whose next tick a minute later replaces a lost one.'],
      ['Serverless-EventBusDLQ', 'Ticks are idempotent and repeat every minute; a dropped tick needs no dead-letter queue.'],
    ]);
  }

  /** kafka:GetBootstrapBrokers at deploy time (outside the VPC), for the functions and the topics resource. */
  private lookupBrokers(arns: KafkaArns, auth: KafkaAuthProps, props: WeirPipelineProps): string {
    const fr = new FunctionRole(this, 'BrokersLookupRole', { description: 'Weir: reads the bootstrap brokers of the MSK cluster', ...(props.logRetention ? { logRetention: props.logRetention } : {}) });
    fr.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'Brokers', actions: ['kafka:GetBootstrapBrokers'], resources: [arns.cluster] }));
    const field = auth.kind === 'iam' ? 'BootstrapBrokerStringSaslIam' : 'BootstrapBrokerStringSaslScram';
    const call: cr.AwsSdkCall = {
      service: 'Kafka',
      action: 'getBootstrapBrokers',
      parameters: { ClusterArn: arns.cluster },
      physicalResourceId: cr.PhysicalResourceId.of(`weir-brokers-${this.node.addr}`),
      outputPaths: [field],
    };
    const lookup = new cr.AwsCustomResource(this, 'BootstrapBrokers', { onCreate: call, onUpdate: call, role: fr.role, installLatestAwsSdk: false, logGroup: fr.logGroup, timeout: Duration.minutes(2), memorySize: 256 });
    const lookupPolicy = fr.role.node.tryFindChild('DefaultPolicy');
    if (lookupPolicy) lookup.node.addDependency(lookupPolicy);
    // AwsCustomResource runs one singleton function per stack, a child of the stack.
    const singleton = Stack.of(this).node.tryFindChild('AWS679f53fac002430cb0da5b7982bd2287');
    if (singleton) {
      acknowledge(singleton, [
        ['Serverless-LambdaDLQ', 'aws-cdk-lib AwsCustomResource function, invoked synchronously by CloudFormation at deploy time; a failure fails the stack operation.'],
        ['Serverless-LambdaTracing', 'aws-cdk-lib AwsCustomResource function run once per deploy; its logs suffice.'],
        ['AwsSolutions-L1', 'aws-cdk-lib chooses the AwsCustomResource runtime.'],
        ['Serverless-LambdaLatestVersion', 'aws-cdk-lib chooses the AwsCustomResource runtime.'],
      ]);
    }
    return lookup.getResponseField(field);
  }
}
