import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from './acknowledge';

export interface FunctionRoleProps {
  readonly description: string;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Whether the function runs in a VPC (ENI permissions). @default false */
  readonly vpc?: boolean;
}

/**
 * A Lambda execution role with no managed policy: its own log group (with retention) and an
 * inline policy that writes only there, plus, in a VPC, the ENI actions Lambda and the MSK
 * event source mapping need (the ones AWSLambdaVPCAccessExecutionRole / AWSLambdaMSKExecutionRole
 * grant, scoped to this account and region where EC2 allows it).
 */
export class FunctionRole extends Construct {
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FunctionRoleProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const statements = [
      // The log group's ARN (GetAtt Arn ends in `:*`) covers its streams and nothing else.
      new iam.PolicyStatement({ sid: 'Logs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }),
    ];
    if (props.vpc) {
      const ec2Arn = (r: string): string => `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:${r}`;
      statements.push(
        new iam.PolicyStatement({
          sid: 'VpcEnis',
          actions: ['ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
          resources: [ec2Arn('network-interface/*'), ec2Arn('subnet/*'), ec2Arn('security-group/*')],
        }),
        // EC2 Describe* actions support no resource-level permissions.
        new iam.PolicyStatement({ sid: 'VpcDescribe', actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'], resources: ['*'] }),
      );
    }
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
      inlinePolicies: { base: new iam.PolicyDocument({ statements }) },
    });
    if (props.vpc) {
      const eni = 'EC2 network interfaces of a VPC function and of the MSK event source mapping: their ARNs do not exist before Lambda creates them, so the account/region wildcard is the narrowest scope EC2 offers.';
      acknowledge(this.role, [
        ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]', eni],
        ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:subnet/*]', eni],
        ['AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:security-group/*]', eni],
        ['AwsSolutions-IAM5[Resource::*]', 'Only ec2:Describe{NetworkInterfaces,Vpcs,Subnets,SecurityGroups}, which support no resource-level permissions (AWS documents them for VPC functions and MSK event source mappings).'],
        ['Serverless-LambdaStarPermissions', 'The only wildcards are the EC2 network-interface actions a VPC function needs (see AwsSolutions-IAM5); Kafka and DynamoDB actions name their resources.'],
      ]);
    }
  }
}
