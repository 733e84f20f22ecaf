import { Annotations, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { Pipeline } from '../shared/api/pipeline';
import type { StageBundle } from '../shared/build/bundle';
import { WeirPropError } from './errors';
import type { ClusterProps, KafkaAuthProps } from './props';
import { WeirPipeline } from './weir-pipeline';

/** What `infra/app.ts` reads from CDK context (`-c key=value`); every field but `pipeline` is optional. */
export interface WeirAppContext {
  /** Path of the pipeline module, e.g. examples/windowed-wordcount.ts. */
  readonly pipeline: string;
  /** @default 4 */
  readonly partitions?: number;
  /** An existing cluster; without it a new MSK Serverless cluster and VPC are made. */
  readonly clusterArn?: string;
  readonly vpcId?: string;
  /** Comma-separated. */
  readonly subnetIds?: string;
  /** Comma-separated. */
  readonly securityGroupIds?: string;
  /** Comma-separated AZs of `subnetIds`, in the same order. @default one per subnet, unnamed */
  readonly availabilityZones?: string;
  readonly bootstrapBrokers?: string;
  /** 'iam' (default) or 'scram' with `scramSecretArn`. */
  readonly auth?: string;
  readonly scramSecretArn?: string;
}

export interface WeirStackProps extends StackProps {
  readonly pipeline: Pipeline;
  readonly pipelineFile: string;
  readonly context: WeirAppContext;
  /** @default built by the construct */
  readonly bundles?: readonly StageBundle[];
  /** @default 'build' */
  readonly bundleDir?: string;
}

const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim()).filter(Boolean);

/** The stack `cdk deploy` makes from context: one WeirPipeline. */
export class WeirStack extends Stack {
  readonly weir: WeirPipeline;

  constructor(scope: Construct, id: string, props: WeirStackProps) {
    super(scope, id, props);
    const c = props.context;
    const auth: KafkaAuthProps = (() => {
      if ((c.auth ?? 'iam') === 'iam') return { kind: 'iam' as const };
      if (c.auth !== 'scram') throw new WeirPropError(this.node.path, 'context auth', c.auth, 'must be "iam" or "scram"', 'pass -c auth=iam or -c auth=scram -c scramSecretArn=...');
      if (!c.scramSecretArn) throw new WeirPropError(this.node.path, 'context scramSecretArn', c.scramSecretArn, 'is required with auth=scram', 'pass -c scramSecretArn=<secret ARN>');
      return { kind: 'scram' as const, secret: secretsmanager.Secret.fromSecretCompleteArn(this, 'ScramSecret', c.scramSecretArn) };
    })();
    let cluster: ClusterProps = { kind: 'new' };
    if (c.clusterArn) {
      const subnetIds = list(c.subnetIds);
      const sgIds = list(c.securityGroupIds);
      if (!c.vpcId || !subnetIds.length || !sgIds.length) {
        throw new WeirPropError(this.node.path, 'context vpcId/subnetIds/securityGroupIds', { vpcId: c.vpcId, subnetIds: c.subnetIds, securityGroupIds: c.securityGroupIds }, 'are all required with clusterArn', 'pass -c vpcId=vpc-... -c subnetIds=subnet-a,subnet-b -c securityGroupIds=sg-...');
      }
      const azs = list(c.availabilityZones);
      // fromVpcAttributes works offline (fromLookup would call EC2 at synth time).
      const vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', {
        vpcId: c.vpcId,
        availabilityZones: azs.length ? azs : subnetIds.map((_, i) => `az-${i}`),
        privateSubnetIds: subnetIds,
      });
      // The stage functions only need subnet ids; route tables are not looked up offline.
      Annotations.of(vpc).acknowledgeWarning('@aws-cdk/aws-ec2:noSubnetRouteTableId', 'Weir places functions in these subnets and never reads their route tables.');
      cluster = {
        kind: 'existing',
        clusterArn: c.clusterArn,
        vpc,
        subnets: { subnets: vpc.privateSubnets },
        securityGroups: sgIds.map((sg, i) => ec2.SecurityGroup.fromSecurityGroupId(this, `Sg${i}`, sg)),
        ...(c.bootstrapBrokers ? { bootstrapBrokers: c.bootstrapBrokers } : {}),
      };
    }
    this.weir = new WeirPipeline(this, 'Weir', {
      pipeline: props.pipeline,
      pipelineFile: props.pipelineFile,
      cluster,
      auth,
      ...(c.partitions !== undefined ? { defaultPartitions: c.partitions } : {}),
      ...(props.bundles ? { bundles: props.bundles } : {}),
      ...(props.bundleDir ? { bundleDir: props.bundleDir } : {}),
    });
  }
}
