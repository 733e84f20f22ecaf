import { Aws, Fn, Token } from 'aws-cdk-lib';

/**
 * MSK IAM resource ARNs, built from the cluster ARN:
 *
 *   cluster  arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>
 *   topic    arn:<partition>:kafka:<region>:<account>:topic/<name>/<uuid>/<topic>
 *   group    arn:<partition>:kafka:<region>:<account>:group/<name>/<uuid>/<group>
 *
 * A literal cluster ARN is parsed here; a token must be a cluster of the same stack (its region
 * and account), whose name and uuid are taken apart with Fn::Split at deploy time.
 */
export interface KafkaArns {
  readonly cluster: string;
  topic(name: string): string;
  group(name: string): string;
}

export const CLUSTER_ARN = /^arn:(aws[a-z-]*):kafka:([a-z0-9-]+):(\d{12}):cluster\/([^/]+)\/([^/]+)$/;

export function kafkaArns(clusterArn: string): KafkaArns {
  if (!Token.isUnresolved(clusterArn)) {
    const m = CLUSTER_ARN.exec(clusterArn);
    if (!m) throw new Error(`not an MSK cluster ARN: ${clusterArn}`);
    const [, partition, region, account, name, uuid] = m;
    const base = (kind: string): string => `arn:${partition}:kafka:${region}:${account}:${kind}/${name}/${uuid}/`;
    return { cluster: clusterArn, topic: (t) => base('topic') + t, group: (g) => base('group') + g };
  }
  // A cluster of this stack: partition, region and account are the stack's; name and uuid come from the ARN.
  const name = Fn.select(1, Fn.split('/', clusterArn));
  const uuid = Fn.select(2, Fn.split('/', clusterArn));
  const arn = (kind: string, leaf: string): string => Fn.join('', ['arn:', Aws.PARTITION, ':kafka:', Aws.REGION, ':', Aws.ACCOUNT_ID, `:${kind}/`, name, '/', uuid, `/${leaf}`]);
  return { cluster: clusterArn, topic: (t) => arn('topic', t), group: (g) => arn('group', g) };
}
