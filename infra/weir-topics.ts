import { CfnElement, CustomResource, Duration, Stack } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { join } from 'node:path';
import type { PlannedTopic } from '../shared/plan/types';
import type { TopicsResourceProperties } from '../functions/topics-resource';
import { acknowledge } from './acknowledge';
import { FunctionRole } from './function-role';
import { bundleHelperFunction } from './helper-bundle';
import type { KafkaConnection } from './props';

export interface WeirTopicsProps {
  readonly topics: readonly PlannedTopic[];
  readonly kafka: KafkaConnection;
  /** @default 'retain' */
  readonly removalPolicy?: 'retain' | 'destroy';
  /** Where the handler bundle is written. */
  readonly bundleDir: string;
  readonly logRetention?: logs.RetentionDays;
  readonly architecture: lambda.Architecture;
}

const ENTRY = join(__dirname, '..', 'functions', 'topics-resource-entry.ts');

/**
 * The pipeline's Kafka topics as one custom resource (functions/topics-resource.ts): created
 * with their partitions, grown when asked, never shrunk, retained on delete by default.
 * Its handler runs in the cluster's VPC; the provider framework around it does not, so the
 * CloudFormation response needs no internet path.
 */
export class WeirTopics extends Construct {
  readonly resource: CustomResource;
  readonly handler: lambda.Function;

  constructor(scope: Construct, id: string, props: WeirTopicsProps) {
    super(scope, id);
    const removal = props.removalPolicy ?? 'retain';
    const bundle = bundleHelperFunction(ENTRY, props.bundleDir, 'topics-resource');
    const handlerRole = new FunctionRole(this, 'HandlerRole', { description: 'Weir topics resource: creates and grows Kafka topics', vpc: true, ...(props.logRetention ? { logRetention: props.logRetention } : {}) });
    const topicArns = props.topics.map((t) => props.kafka.arns.topic(t.name));
    handlerRole.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'KafkaConnect', actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeCluster'], resources: [props.kafka.arns.cluster] }));
    handlerRole.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'KafkaTopics',
        actions: ['kafka-cluster:CreateTopic', 'kafka-cluster:DescribeTopic', 'kafka-cluster:AlterTopic', ...(removal === 'destroy' ? ['kafka-cluster:DeleteTopic'] : [])],
        resources: topicArns,
      }),
    );
    if (props.kafka.auth.kind === 'scram') props.kafka.auth.secret.grantRead(handlerRole.role);

    this.handler = new lambda.Function(this, 'Handler', {
      description: 'Weir: creates the pipeline topics (custom resource)',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: props.architecture,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(bundle.dir),
      memorySize: 256,
      timeout: Duration.minutes(5),
      role: handlerRole.role,
      logGroup: handlerRole.logGroup,
      vpc: props.kafka.vpc,
      vpcSubnets: props.kafka.subnets,
      securityGroups: [...props.kafka.securityGroups],
      environment: { NODE_OPTIONS: '--enable-source-maps' },
    });

    const frameworkRole = new FunctionRole(this, 'ProviderRole', { description: 'Weir topics resource: provider framework', ...(props.logRetention ? { logRetention: props.logRetention } : {}) });
    const provider = new cr.Provider(this, 'Provider', { onEventHandler: this.handler, frameworkOnEventRole: frameworkRole.role, logGroup: frameworkRole.logGroup });

    const properties: TopicsResourceProperties = {
      Topics: props.topics.map((t) => ({ Name: t.name, Partitions: t.partitions })),
      RemovalPolicy: removal,
      BootstrapBrokers: props.kafka.bootstrapBrokers,
      Auth: props.kafka.auth.kind,
      ...(props.kafka.auth.kind === 'scram' ? { ScramSecretArn: props.kafka.auth.secret.secretArn } : {}),
    };
    this.resource = new CustomResource(this, 'Resource', { serviceToken: provider.serviceToken, resourceType: 'Custom::WeirTopics', properties: { ...properties } });
    // The handler's Kafka permissions sit in the role's default policy: wait for them.
    const handlerPolicy = handlerRole.role.node.tryFindChild('DefaultPolicy');
    if (handlerPolicy) this.resource.node.addDependency(handlerPolicy);

    acknowledge(this, [
      ['AwsSolutions-L1', 'The handler runs Node.js 22 like the stage bundles it is built with (shared/build/bundle.ts targets node22); the provider framework runtime is chosen by aws-cdk-lib.'],
      ['Serverless-LambdaLatestVersion', 'The handler runs Node.js 22 like the stage bundles it is built with; the provider framework runtime is chosen by aws-cdk-lib.'],
      ['Serverless-LambdaDefaultMemorySize', 'The provider framework function (aws-cdk-lib) has no memory setting; it only relays one CloudFormation request per deploy.'],
      ['Serverless-LambdaTracing', 'Deploy-time custom resource functions: their logs show every request; X-Ray adds nothing.'],
      ['Serverless-LambdaDLQ', 'Invoked synchronously by CloudFormation through the provider framework; a failure fails the stack operation.'],
    ]);
    const handlerId = Stack.of(this).getLogicalId(this.handler.node.defaultChild as CfnElement);
    acknowledge(frameworkRole.role, [
      [`AwsSolutions-IAM5[Resource::<${handlerId}.Arn>:*]`, 'The provider framework (aws-cdk-lib) may invoke any version of its own handler function; the function is named.'],
    ]);
  }
}
