import { resolve } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { WeirPipeline, WeirPropError, type WeirPipelineProps } from '../../infra';
import { loadPipeline } from '../../shared/local/load-pipeline';
import { BUNDLE_DIR, CLUSTER_ARN, exampleFile, resourcesOf, TOPIC_ARN_PREFIX, synthExample, type Statement } from './support';
import { example } from '../support/examples';

const TICKING = resolve(__dirname, 'fixtures/ticking.ts');

function build(extra: Partial<WeirPipelineProps>, file = exampleFile('windowed-wordcount')): () => WeirPipeline {
  return () => {
    const stack = new Stack(new App(), 'V');
    return new WeirPipeline(stack, 'Weir', { pipeline: loadPipeline(file), pipelineFile: file, bundleDir: BUNDLE_DIR, ...extra });
  };
}

function errorOf(fn: () => unknown): WeirPropError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WeirPropError);
    return err as WeirPropError;
  }
  throw new Error('expected a WeirPropError');
}

describe('WeirPipeline validation: errors name the prop, the value, the fix and the construct path', () => {
  test('batch size out of range', () => {
    const e = errorOf(build({ stages: { s1: { batchSize: 0 } } }));
    expect(e.message).toMatch(/^stages\.s1\.batchSize must be an integer in 1\.\.10000, got 0: set a batch size .* \[at V\/Weir\]$/);
    expect(e).toMatchObject({ prop: 'stages.s1.batchSize', value: 0, path: 'V/Weir', code: 'CONFIG_INVALID' });
    expect(errorOf(build({ allStages: { batchSize: 10_001 } })).prop).toBe('allStages.batchSize');
  });

  test('pollers min > max, and out of range', () => {
    const e = errorOf(build({ stages: { s0: { pollers: { min: 5, max: 2 } } } }));
    expect(e.message).toContain('stages.s0.pollers must have min <= max, got {"min":5,"max":2}: lower min or raise max [at V/Weir]');
    expect(errorOf(build({ stages: { s0: { pollers: { min: 0, max: 2 } } } })).prop).toBe('stages.s0.pollers.min');
  });

  test('memory, timeout and batching window', () => {
    expect(errorOf(build({ stages: { s0: { memorySize: 64 } } })).message).toContain('stages.s0.memorySize must be an integer in 128..10240, got 64');
    expect(errorOf(build({ stages: { s0: { timeout: Duration.minutes(20) } } })).prop).toBe('stages.s0.timeout');
    expect(errorOf(build({ stages: { s0: { batchingWindow: Duration.minutes(6) } } })).prop).toBe('stages.s0.batchingWindow');
  });

  test('unknown stage id, bad partitions, bad cluster ARN, SCRAM on Serverless', () => {
    expect(errorOf(build({ stages: { s7: { batchSize: 10 } } })).message).toContain('stages.s7 names no stage of pipeline "windowed-wordcount", got "s7": use one of s0, s1');
    expect(errorOf(build({ defaultPartitions: 0 })).prop).toBe('defaultPartitions');
    const stack = new Stack(new App(), 'V');
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['a'], privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1'] });
    const bad = (): WeirPipeline =>
      new WeirPipeline(stack, 'Weir', {
        pipeline: example('uppercase'),
        pipelineFile: exampleFile('uppercase'),
        bundleDir: BUNDLE_DIR,
        cluster: { kind: 'existing', clusterArn: 'arn:aws:kafka:eu-west-1:123:cluster/x', vpc, subnets: {}, securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0')] },
      });
    expect(errorOf(bad).message).toMatch(/^cluster\.clusterArn is not an MSK cluster ARN, got "arn:aws:kafka:eu-west-1:123:cluster\/x": pass arn:aws:kafka:<region>:<account>:cluster\/<name>\/<uuid> \[at V\/Weir\]$/);
    const secret = secretsmanager.Secret.fromSecretNameV2(new Stack(new App(), 'S'), 'Sec', 'AmazonMSK_weir');
    expect(errorOf(build({ auth: { kind: 'scram', secret } })).prop).toBe('auth.kind');
  });
});

describe('WeirPipeline with the ticking fixture (idle source, processing time, stage cut, DynamoDB sink)', () => {
  const stack = new Stack(new App(), 'Ticking', { env: { account: '123456789012', region: 'eu-west-1' } });
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'] });
  const weir = new WeirPipeline(stack, 'Weir', {
    pipeline: loadPipeline(TICKING),
    pipelineFile: TICKING,
    bundleDir: BUNDLE_DIR,
    cluster: { kind: 'existing', clusterArn: CLUSTER_ARN, vpc, subnets: { subnets: vpc.privateSubnets }, securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0')], bootstrapBrokers: 'b-1:9098' },
  });
  const t = Template.fromStack(stack);

  test('the schedule ticks exactly the stages that need it, with {weir:"tick"}', () => {
    t.resourceCountIs('AWS::Events::Rule', 1);
    const rule = (resourcesOf(t, 'AWS::Events::Rule')[0] as [string, { Properties: Record<string, unknown> }])[1];
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    const targets = rule.Properties.Targets as Array<{ Arn: unknown; Input: string }>;
    // s0 (idle source) and s2 (processing-time window); not s1 nor s3.
    expect(targets.map((x) => JSON.stringify(x.Arn)).sort()).toEqual(['s0', 's2'].map((s) => JSON.stringify({ 'Fn::GetAtt': [stack.getLogicalId(weir.stages[s]?.function.node.defaultChild as never), 'Arn'] })).sort());
    for (const x of targets) expect(JSON.parse(x.Input)).toEqual({ weir: 'tick' });
  });

  test('DSL stage settings become the function and mapping settings', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      Topics: ['ticking-s1-forward'],
      BatchSize: 250,
      MaximumBatchingWindowInSeconds: 2,
      ProvisionedPollerConfig: { MinimumPollers: 2, MaximumPollers: 8 },
      DestinationConfig: { OnFailure: { Destination: 'kafka://ticking-s1-failed' } },
    });
    t.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 2048, Environment: { Variables: Match.objectLike({ WEIR_STAGE: 's1' }) } });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Topics: ['events'], StartingPosition: 'LATEST' });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Topics: ['other'], StartingPosition: 'TRIM_HORIZON' });
  });

  test('a ticked keyed stage may write tick markers to its own input; the sink table is granted PutItem only', () => {
    const policies = resourcesOf(t, 'AWS::IAM::Policy');
    const sts = (stage: string): Statement[] => ((policies.find(([id]) => id.startsWith(`WeirStage${stage}RoleDefaultPolicy`)) as (typeof policies)[number])[1].Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const s2 = sts('s2');
    expect(s2.find((x) => x.Sid === 'KafkaWrite')?.Resource).toEqual(expect.arrayContaining([TOPIC_ARN_PREFIX + 'ticking-s2-repartition']));
    expect(s2.find((x) => x.Sid === 'SinkTables')).toMatchObject({ Action: 'dynamodb:PutItem', Resource: { 'Fn::Join': ['', expect.arrayContaining([':table/ticking-counts'])] } });
    expect(sts('s1').find((x) => x.Sid === 'SinkTables')).toBeUndefined();
    expect(sts('s1').find((x) => x.Sid === 'KafkaWrite')?.Resource).not.toEqual(expect.arrayContaining([TOPIC_ARN_PREFIX + 'ticking-s1-forward']));
  });
});

describe('WeirPipeline props', () => {
  test('removal policies and names are props', () => {
    const s = synthExample('sum', { topicRemovalPolicy: 'destroy', metricsNamespace: 'MyCo/Weir', defaultPartitions: 8 }, { existing: true });
    const t = s.template();
    t.hasResourceProperties('Custom::WeirTopics', { RemovalPolicy: 'destroy', Topics: Match.arrayWith([{ Name: 'sum-s1-repartition', Partitions: 8 }]) });
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['kafka-cluster:DeleteTopic']) })]) } });
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ WEIR_METRICS_NAMESPACE: 'MyCo/Weir', WEIR_PARTITIONS: '8' }) } });
  });
});
