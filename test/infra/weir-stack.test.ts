import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { WeirStack } from '../../infra/weir-stack';
import { example } from '../support/examples';
import { BUNDLE_DIR, exampleFile } from './support';

// The stack infra/app.ts builds from `-c key=value` context.
describe('WeirStack (cdk.json app)', () => {
  const make = (context: Record<string, string>): WeirStack =>
    new WeirStack(new App(), 'Weir-sum', { pipeline: example('sum'), pipelineFile: exampleFile('sum'), bundleDir: BUNDLE_DIR, context: { pipeline: exampleFile('sum'), ...context } });

  test('no cluster context: a new MSK Serverless cluster', () => {
    Template.fromStack(make({})).resourceCountIs('AWS::MSK::ServerlessCluster', 1);
  });

  test('an existing cluster from context, VPC imported offline', () => {
    const t = Template.fromStack(
      make({ clusterArn: 'arn:aws:kafka:eu-west-1:111122223333:cluster/prod/abcd-1234-ef', vpcId: 'vpc-0123456789abcdef0', subnetIds: 'subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2', securityGroupIds: 'sg-0123456789abcdef0', bootstrapBrokers: 'b-1:9098' }),
    );
    t.resourceCountIs('AWS::MSK::ServerlessCluster', 0);
    t.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: { SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0bbbbbbbbbbbbbbb2'], SecurityGroupIds: ['sg-0123456789abcdef0'] } });
  });

  test('context errors name the keys to pass', () => {
    expect(() => make({ clusterArn: 'arn:aws:kafka:eu-west-1:111122223333:cluster/prod/abcd' })).toThrow(/context vpcId\/subnetIds\/securityGroupIds are all required with clusterArn.*pass -c vpcId=vpc-/);
    expect(() => make({ auth: 'scram' })).toThrow(/context scramSecretArn is required with auth=scram/);
    expect(() => make({ auth: 'tls' })).toThrow(/context auth must be "iam" or "scram", got "tls"/);
  });
});
