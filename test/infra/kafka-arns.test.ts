import { Stack } from 'aws-cdk-lib';
import * as msk from 'aws-cdk-lib/aws-msk';
import { kafkaArns } from '../../infra';

describe('kafkaArns', () => {
  test('a literal cluster ARN gives literal topic and group ARNs', () => {
    const a = kafkaArns('arn:aws:kafka:us-east-1:111122223333:cluster/weir/abcd-1234-ef');
    expect(a.topic('lines')).toBe('arn:aws:kafka:us-east-1:111122223333:topic/weir/abcd-1234-ef/lines');
    expect(a.group('weir-wc-s0')).toBe('arn:aws:kafka:us-east-1:111122223333:group/weir/abcd-1234-ef/weir-wc-s0');
    expect(() => kafkaArns('arn:aws:kafka:us-east-1:111122223333:topic/weir/abcd/lines')).toThrow('not an MSK cluster ARN');
  });

  test('a cluster of the stack: name and uuid are split out of its ARN at deploy time', () => {
    const stack = new Stack();
    const cluster = new msk.CfnServerlessCluster(stack, 'C', { clusterName: 'weir', clientAuthentication: { sasl: { iam: { enabled: true } } }, vpcConfigs: [{ subnetIds: ['subnet-0aaaaaaaaaaaaaaa1'] }] });
    const resolved = stack.resolve(kafkaArns(cluster.attrArn).topic('lines')) as { 'Fn::Join': [string, unknown[]] };
    const parts = resolved['Fn::Join'][1];
    expect(parts[0]).toBe('arn:');
    expect(parts).toContain(':topic/');
    expect(parts[parts.length - 1]).toBe('/lines');
    expect(parts).toContainEqual({ 'Fn::Select': [1, { 'Fn::Split': ['/', { 'Fn::GetAtt': ['C', 'Arn'] }] }] });
    expect(parts).toContainEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': ['C', 'Arn'] }] }] });
  });
});
