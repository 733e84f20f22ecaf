import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { WeirPipeline, type WeirPipelineProps } from '../../infra';
import { loadPipeline } from '../../shared/local/load-pipeline';
import { BUNDLE_DIR, CLUSTER_ARN, EXAMPLES, exampleFile } from './support';

interface Report {
  pluginReports: Array<{ pluginName?: string; violations: Array<{ ruleName: string; severity: string; violatingConstructs?: Array<{ constructPath: string }> }> }>;
}

/** Synthesizes one WeirPipeline with the AwsSolutions and Serverless packs; returns the unacknowledged findings. */
function nag(file: string, extra: (stack: Stack) => Partial<WeirPipelineProps> = () => ({})): string[] {
  const outdir = mkdtempSync(join(tmpdir(), 'weir-nag-'));
  const app = new App({ outdir });
  const stack = new Stack(app, 'Nag', { env: { account: '123456789012', region: 'eu-west-1' } });
  new WeirPipeline(stack, 'Weir', { pipeline: loadPipeline(file), pipelineFile: file, bundleDir: BUNDLE_DIR, ...extra(stack) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  let failed = false;
  try {
    app.synth();
  } catch {
    failed = true;
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report;
  const findings = report.pluginReports.flatMap((p) => p.violations.map((v) => `${v.severity} ${v.ruleName} ${(v.violatingConstructs ?? []).map((c) => c.constructPath).join(' ')}`));
  if (failed && !findings.length) throw new Error('synth failed without a validation finding');
  return findings;
}

const existingScram = (stack: Stack): Partial<WeirPipelineProps> => {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['eu-west-1a', 'eu-west-1b'], privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'] });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  return {
    cluster: { kind: 'existing', clusterArn: CLUSTER_ARN, vpc, subnets: { subnets: vpc.privateSubnets }, securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0')] },
    auth: { kind: 'scram', secret: secretsmanager.Secret.fromSecretAttributes(stack, 'Secret', { secretCompleteArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:AmazonMSK_weir-AbCdEf', encryptionKey: key }) },
    ticker: 'all',
  };
};

// Every acknowledgement in infra/ carries a reason; the packs must find nothing else.
describe('cdk-nag AwsSolutions + Serverless packs', () => {
  test.each(EXAMPLES)('%s on a new MSK Serverless cluster: no unacknowledged finding', (name) => {
    expect(nag(exampleFile(name))).toEqual([]);
  });

  test('the harness does report findings (a bare function with the default role)', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'weir-nag-'));
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bare');
    new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM4/);
    const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report;
    expect(report.pluginReports.flatMap((p) => p.violations.map((v) => v.ruleName))).toEqual(expect.arrayContaining(['AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]']));
  });

  test('ticking fixture on an existing cluster with SCRAM and the ticker on every stage: no unacknowledged finding', () => {
    expect(nag(resolve(__dirname, 'fixtures/ticking.ts'), existingScram)).toEqual([]);
  });
});
