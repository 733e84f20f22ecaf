import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges a policy-validation rule (cdk-nag AwsSolutions / Serverless packs) on a
 * construct and its children, always with the reason; CDK's native mechanism, so the construct
 * library does not depend on cdk-nag.
 */
export function acknowledge(scope: IConstruct, rules: ReadonlyArray<readonly [id: string, reason: string]>): void {
  for (const [id, reason] of rules) Validations.of(scope).acknowledge({ id, reason });
}
