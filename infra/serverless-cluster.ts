import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as msk from 'aws-cdk-lib/aws-msk';
import { Construct } from 'constructs';
import { acknowledge } from './acknowledge';

export interface WeirServerlessClusterProps {
  /** 1-64 of letters, digits and '-'. */
  readonly clusterName: string;
  /** Availability zones of the VPC; MSK Serverless needs subnets in at least 2. @default 2 */
  readonly maxAzs?: number;
}

/** MSK IAM listener port (SASL/OAUTHBEARER over TLS). */
export const MSK_IAM_PORT = 9098;

/**
 * A new MSK Serverless cluster (IAM auth only) in a new VPC without internet access:
 *
 *   private isolated subnets (2 AZs) ── MSK Serverless (9098, IAM)
 *        │                             ▲
 *        ├─ stage functions ───────────┘  (one security group, self-referencing on 9098)
 *        ├─ DynamoDB gateway endpoint      (state, progress, sink tables)
 *        └─ Lambda + STS interface endpoints (the MSK event source mapping's pollers run in
 *           the cluster's subnets and call them; AWS documents NAT or these endpoints)
 */
export class WeirServerlessCluster extends Construct {
  readonly vpc: ec2.Vpc;
  readonly securityGroup: ec2.SecurityGroup;
  readonly subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  readonly cluster: msk.CfnServerlessCluster;
  /** The cluster ARN (a token). */
  readonly clusterArn: string;

  constructor(scope: Construct, id: string, props: WeirServerlessClusterProps) {
    super(scope, id);
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: props.maxAzs ?? 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      gatewayEndpoints: { DynamoDb: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB } },
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: `Weir ${props.clusterName}: brokers, stage functions and the event source mapping pollers`,
      allowAllOutbound: true,
    });
    this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(MSK_IAM_PORT), 'Kafka over TLS with IAM auth, from the stage functions and pollers');
    this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.tcp(443), 'VPC interface endpoints (Lambda, STS)');
    for (const [name, service] of [
      ['Lambda', ec2.InterfaceVpcEndpointAwsService.LAMBDA],
      ['Sts', ec2.InterfaceVpcEndpointAwsService.STS],
    ] as const) {
      this.vpc.addInterfaceEndpoint(name, { service, securityGroups: [this.securityGroup], privateDnsEnabled: true, open: false });
    }
    this.cluster = new msk.CfnServerlessCluster(this, 'Cluster', {
      clusterName: props.clusterName,
      clientAuthentication: { sasl: { iam: { enabled: true } } },
      vpcConfigs: [{ subnetIds: this.vpc.selectSubnets(this.subnets).subnetIds, securityGroups: [this.securityGroup.securityGroupId] }],
    });
    this.clusterArn = this.cluster.attrArn;
    acknowledge(this.vpc, [
      ['AwsSolutions-VPC7', 'The VPC has no internet path (isolated subnets, no NAT); flow logs are left to the account owner to avoid per-GB ingestion cost on Kafka traffic.'],
    ]);
  }
}
