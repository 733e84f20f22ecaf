import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { WeirPipeline, type WeirPipelineProps } from '../../infra';
import { planPipeline } from '../../shared/plan/planner';
import type { PipelinePlan } from '../../shared/plan/types';
import { example } from '../support/examples';
import type { ExampleName } from '../reference/types';

export { EXAMPLES } from '../support/examples';

/** Bundles go to a per-process temp dir: never build/, which the integration tests run from. */
export const BUNDLE_DIR = mkdtempSync(join(tmpdir(), 'weir-infra-test-'));

export const CLUSTER_ARN = 'arn:aws:kafka:eu-west-1:123456789012:cluster/weir-test/0b1c2d3e-1111-2222-3333-444455556666-2';
export const TOPIC_ARN_PREFIX = 'arn:aws:kafka:eu-west-1:123456789012:topic/weir-test/0b1c2d3e-1111-2222-3333-444455556666-2/';
export const GROUP_ARN_PREFIX = 'arn:aws:kafka:eu-west-1:123456789012:group/weir-test/0b1c2d3e-1111-2222-3333-444455556666-2/';

export function exampleFile(name: ExampleName): string {
  return resolve(__dirname, '../../examples', `${name}.ts`);
}

export interface Synth {
  readonly app: App;
  readonly stack: Stack;
  readonly weir: WeirPipeline;
  readonly plan: PipelinePlan;
  template(): Template;
}

type Extra = Partial<Omit<WeirPipelineProps, 'pipeline' | 'pipelineFile'>>;

/** A stack holding one WeirPipeline for an example; `existing` uses a literal cluster ARN and an imported VPC. */
export function synthExample(name: ExampleName, extra: Extra = {}, opts: { existing?: boolean; outdir?: string } = {}): Synth {
  const app = new App(opts.outdir ? { outdir: opts.outdir } : {});
  const stack = new Stack(app, `Test-${name}`, { env: { account: '123456789012', region: 'eu-west-1' } });
  let cluster: WeirPipelineProps['cluster'] | undefined;
  if (opts.existing) {
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'] });
    cluster = {
      kind: 'existing',
      clusterArn: CLUSTER_ARN,
      vpc,
      subnets: { subnets: vpc.privateSubnets },
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0')],
      bootstrapBrokers: 'b-1.weir-test.kafka.eu-west-1.amazonaws.com:9098,b-2.weir-test.kafka.eu-west-1.amazonaws.com:9098',
    };
  }
  const weir = new WeirPipeline(stack, 'Weir', { pipeline: example(name), pipelineFile: exampleFile(name), bundleDir: BUNDLE_DIR, ...(cluster ? { cluster } : {}), ...extra });
  let template: Template | undefined;
  return { app, stack, weir, plan: planPipeline(example(name), extra.defaultPartitions ? { defaultPartitions: extra.defaultPartitions } : {}), template: () => (template ??= Template.fromStack(stack)) };
}

/** Resources of one type as [logicalId, resource]. */
export function resourcesOf(t: Template, type: string): Array<[string, { Properties: Record<string, unknown>; DependsOn?: string[] }]> {
  return Object.entries(t.findResources(type)) as Array<[string, { Properties: Record<string, unknown>; DependsOn?: string[] }]>;
}

export interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every IAM statement of the template (inline role policies and AWS::IAM::Policy). */
export function statementsOf(t: Template): Statement[] {
  const out: Statement[] = [];
  for (const [, r] of resourcesOf(t, 'AWS::IAM::Policy')) out.push(...((r.Properties.PolicyDocument as { Statement: Statement[] }).Statement));
  for (const [, r] of resourcesOf(t, 'AWS::IAM::Role')) {
    for (const p of (r.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }> | undefined) ?? []) out.push(...p.PolicyDocument.Statement);
  }
  return out;
}

export const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
export const resourcesList = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);
