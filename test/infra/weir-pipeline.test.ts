import { Match } from 'aws-cdk-lib/assertions';
import { example } from '../support/examples';
import { consumerGroupId, failedTopicName, stageAccess } from '../../infra';
import { actionsOf, CLUSTER_ARN, EXAMPLES, GROUP_ARN_PREFIX, resourcesList, resourcesOf, statementsOf, synthExample, TOPIC_ARN_PREFIX, type Statement } from './support';

// GIVEN each example pipeline, WHEN it is synthesized with WeirPipeline, THEN the template
// holds what docs/DEPLOY.md promises: one function and one MSK mapping per stage input, the
// topics resource, both tables, least-privilege roles, alarms and a dashboard.
describe.each(EXAMPLES)('WeirPipeline(%s)', (name) => {
  const created = synthExample(name);
  const existing = synthExample(name, {}, { existing: true });
  const { plan } = created;
  const stageFunctions = (s: typeof created) => resourcesOf(s.template(), 'AWS::Lambda::Function').filter(([, r]) => (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.WEIR_STAGE);

  test('one Node.js 22 function per stage, with the WEIR_* environment', () => {
    const fns = stageFunctions(created);
    expect(fns).toHaveLength(plan.stages.length);
    for (const s of plan.stages) {
      created.template().hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Environment: {
          Variables: Match.objectLike({
            WEIR_STAGE: s.id,
            WEIR_PARTITIONS: '4',
            WEIR_STATE_TABLE: plan.tables.state,
            WEIR_PROGRESS_TABLE: plan.tables.progress,
            WEIR_KAFKA_AUTH: 'iam',
            WEIR_BROKERS: Match.anyValue(),
            WEIR_METRICS_NAMESPACE: 'Weir',
          }),
        },
        VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      });
    }
    existing.template().hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ WEIR_BROKERS: Match.stringLikeRegexp('^b-1\\.weir-test.*:9098,') }) } });
  });

  test('one MSK event source mapping per stage input topic, after its role policy and the topics', () => {
    const mappings = resourcesOf(created.template(), 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(plan.stages.reduce((n, s) => n + s.inputTopics.length, 0));
    for (const s of plan.stages) {
      for (const topic of s.inputTopics) {
        const m = mappings.find(([, r]) => (r.Properties.Topics as string[])[0] === topic);
        expect(m).toBeDefined();
        const [, r] = m as (typeof mappings)[number];
        expect(r.Properties).toMatchObject({
          AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: consumerGroupId(plan, s, topic) },
          BatchSize: s.settings.batchSize ?? 100,
          StartingPosition: 'TRIM_HORIZON',
          MaximumBatchingWindowInSeconds: 0,
        });
        // aws-cdk#17412: the mapping waits for the role's policy.
        expect((r.DependsOn ?? []).some((d) => /Stage.*RoleDefaultPolicy/.test(d))).toBe(true);
        expect((r.DependsOn ?? []).some((d) => /^WeirTopics[0-9A-F]{8}$/.test(d))).toBe(true);
      }
    }
    existing.template().hasResourceProperties('AWS::Lambda::EventSourceMapping', { EventSourceArn: CLUSTER_ARN });
  });

  test('the topics custom resource holds every planned topic with its partitions, and the failed topics', () => {
    const [[, cr]] = resourcesOf(created.template(), 'Custom::WeirTopics') as [[string, { Properties: { Topics: Array<{ Name: string; Partitions: number }>; RemovalPolicy: string } }]];
    const topics = new Map(cr.Properties.Topics.map((t) => [t.Name, t.Partitions]));
    for (const t of plan.topics) expect(topics.get(t.name)).toBe(t.partitions);
    for (const s of plan.stages) expect(topics.get(failedTopicName(plan.pipeline, s.id))).toBe(1);
    expect(cr.Properties.RemovalPolicy).toBe('retain');
    // An existing cluster keeps its source topics to itself.
    const [[, cr2]] = resourcesOf(existing.template(), 'Custom::WeirTopics') as [[string, { Properties: { Topics: Array<{ Name: string }> } }]];
    const sources = plan.topics.filter((t) => t.role === 'source').map((t) => t.name);
    expect(cr2.Properties.Topics.map((t) => t.Name).filter((n) => sources.includes(n))).toEqual([]);
  });

  test('state and progress tables: on-demand, TTL, PITR, AWS-managed encryption, retained', () => {
    const t = created.template();
    t.resourceCountIs('AWS::DynamoDB::Table', 2);
    const common = { BillingMode: 'PAY_PER_REQUEST', PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, SSESpecification: { SSEEnabled: true } };
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      ...common,
      TableName: plan.tables.state,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    t.hasResourceProperties('AWS::DynamoDB::Table', { ...common, TableName: plan.tables.progress, KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] });
    t.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('IAM: no wildcard action, no managed policy, Kafka resources name the topics and groups', () => {
    for (const s of [created, existing]) {
      const statements = statementsOf(s.template());
      for (const st of statements) for (const a of actionsOf(st)) expect(a).not.toMatch(/\*/);
      for (const [, role] of resourcesOf(s.template(), 'AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      // kafka-cluster data actions never sit on a wildcard resource.
      for (const st of statements.filter((x) => actionsOf(x).some((a) => /^kafka-cluster:(ReadData|WriteData|AlterGroup|CreateTopic)$/.test(a)))) {
        for (const r of resourcesList(st)) expect(JSON.stringify(r)).not.toMatch(/topic\/\*|group\/\*|"\*"/);
      }
    }
    // With a literal cluster ARN the statements are plain ARNs: check them stage by stage.
    const access = stageAccess(example(name), existing.plan);
    const t = existing.template();
    const policies = resourcesOf(t, 'AWS::IAM::Policy');
    for (const a of access) {
      const [, policy] = policies.find(([id]) => id.startsWith(`WeirStage${a.stage.id}RoleDefaultPolicy`)) as (typeof policies)[number];
      const sts = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      const bySid = (sid: string): Statement => sts.find((x) => x.Sid === sid) as Statement;
      expect(resourcesList(bySid('KafkaRead')).sort()).toEqual(a.readTopics.map((x) => TOPIC_ARN_PREFIX + x).sort());
      expect(actionsOf(bySid('KafkaRead')).sort()).toEqual(['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData']);
      expect(resourcesList(bySid('KafkaWrite')).sort()).toEqual(a.writeTopics.map((x) => TOPIC_ARN_PREFIX + x).sort());
      expect(resourcesList(bySid('KafkaGroups')).sort()).toEqual(a.groups.map((g) => GROUP_ARN_PREFIX + g.groupId).sort());
      expect(resourcesList(bySid('KafkaCluster'))).toEqual([CLUSTER_ARN]);
      expect(actionsOf(bySid('MskMapping'))).toEqual(expect.arrayContaining(['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers']));
      expect(resourcesList(bySid('StateTables'))).toHaveLength(2);
      // A stage reads only its own inputs.
      const others = existing.plan.stages.filter((s) => s.id !== a.stage.id).flatMap((s) => s.inputTopics).filter((x) => !a.readTopics.includes(x));
      for (const o of others) expect(resourcesList(bySid('KafkaRead'))).not.toContain(TOPIC_ARN_PREFIX + o);
    }
  });

  test('alarms on offset lag, errors and dead letters for every stage; one dashboard', () => {
    const t = created.template();
    t.resourceCountIs('AWS::CloudWatch::Alarm', plan.stages.length * 3);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    t.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: `weir-${plan.pipeline}` });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Lambda', MetricName: 'OffsetLag', Statistic: 'Maximum' });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Lambda', MetricName: 'Errors' });
    for (const s of plan.stages) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'Weir', MetricName: 'dlqRecords', Dimensions: Match.arrayWith([{ Name: 'service', Value: plan.pipeline }, { Name: 'stage', Value: s.id }]) });
    }
  });

  test('the ticker: a schedule only for stages that need ticks (none in this example); ticker "all" ticks every stage', () => {
    const needs = stageAccess(example(name), plan).filter((a) => a.needsTicks).length;
    created.template().resourceCountIs('AWS::Events::Rule', Math.ceil(needs / 5));
    // No example has an idle timeout or processing time: no stage needs ticks, so no schedule
    // (the expected count above comes from the code under test; the ticking fixture in
    // validation.test.ts checks the stages that do).
    expect(needs).toBe(0);
    created.template().resourceCountIs('AWS::Events::Rule', 0);
    const all = synthExample(name, { ticker: 'all' }, { existing: true });
    all.template().hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: Match.arrayWith([Match.objectLike({ Input: JSON.stringify({ weir: 'tick' }) })]),
    });
    const targets = resourcesOf(all.template(), 'AWS::Events::Rule').flatMap(([, r]) => r.Properties.Targets as unknown[]);
    expect(targets).toHaveLength(plan.stages.length);
  });

  test('a new cluster is MSK Serverless with IAM auth in a new VPC', () => {
    const t = created.template();
    t.hasResourceProperties('AWS::MSK::ServerlessCluster', { ClusterName: `weir-${plan.pipeline}`, ClientAuthentication: { Sasl: { Iam: { Enabled: true } } } });
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    expect(JSON.stringify(resourcesOf(t, 'Custom::AWS')[0]?.[1].Properties.Create)).toMatch(/getBootstrapBrokers.*BootstrapBrokerStringSaslIam/);
    existing.template().resourceCountIs('AWS::MSK::ServerlessCluster', 0);
    existing.template().resourceCountIs('Custom::AWS', 0);
  });
});

describe('WeirPipeline stage settings', () => {
  test('DSL stage settings are the defaults; overrides win; provisioned pollers get the failed topic', () => {
    const s = synthExample('windowed-wordcount', {
      allStages: { memorySize: 1024 },
      stages: { s1: { batchSize: 500, pollers: { min: 1, max: 4 } } },
    });
    const t = s.template();
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      Topics: ['windowed-wordcount-s1-repartition'],
      BatchSize: 500,
      ProvisionedPollerConfig: { MinimumPollers: 1, MaximumPollers: 4 },
      DestinationConfig: { OnFailure: { Destination: 'kafka://windowed-wordcount-s1-failed' } },
      MaximumRetryAttempts: 10,
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { Topics: ['lines'], BatchSize: 100, DestinationConfig: Match.absent(), ProvisionedPollerConfig: Match.absent() });
    t.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1024, Environment: { Variables: Match.objectLike({ WEIR_STAGE: 's1' }) } });
  });
});
