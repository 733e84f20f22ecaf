import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { GraphNode } from '../shared/api/graph';
import type { Pipeline } from '../shared/api/pipeline';
import type { StagePlan } from '../shared/plan/types';
import { WeirPropError } from './errors';
import type { OnFailureProps, StageOverrides } from './props';

/** A stage's deployment settings once DSL defaults and overrides are merged and checked. */
export interface ResolvedStageSettings {
  readonly batchSize: number;
  readonly batchingWindow: Duration;
  readonly startingPosition: lambda.StartingPosition;
  readonly startingPositionTimestamp?: number;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly pollers?: { readonly min: number; readonly max: number };
  readonly onFailure: OnFailureProps;
  readonly retryAttempts?: number;
}

export const DEFAULTS = { batchSize: 100, batchingWindowSeconds: 0, memorySize: 512, timeoutSeconds: 60, retryAttempts: 10 } as const;

/** Merges built-in defaults < DSL `startNewStage` settings < allStages < stages[id]; validates; errors name `stages.<id>.<field>`. */
export function resolveStageSettings(
  path: string,
  p: Pipeline,
  stage: StagePlan,
  all: StageOverrides = {},
  own: StageOverrides = {},
): ResolvedStageSettings {
  const dsl = stage.settings;
  const o: StageOverrides = { ...all, ...own };
  const prop = (field: string): string => (own[field as keyof StageOverrides] !== undefined ? `stages.${stage.id}.${field}` : all[field as keyof StageOverrides] !== undefined ? `allStages.${field}` : `startNewStage({ ${field} }) of stage ${stage.id}`);

  const batchSize = o.batchSize ?? dsl.batchSize ?? DEFAULTS.batchSize;
  intIn(path, prop('batchSize'), batchSize, 1, 10_000, 'set a batch size the MSK event source mapping accepts (1..10000)');
  const windowSeconds = o.batchingWindow ? o.batchingWindow.toSeconds() : (dsl.batchingWindowSeconds ?? DEFAULTS.batchingWindowSeconds);
  intIn(path, prop(o.batchingWindow ? 'batchingWindow' : 'batchingWindowSeconds'), windowSeconds, 0, 300, 'use a whole number of seconds in 0..300');
  const memorySize = o.memorySize ?? dsl.memoryMb ?? DEFAULTS.memorySize;
  intIn(path, prop(o.memorySize !== undefined ? 'memorySize' : 'memoryMb'), memorySize, 128, 10_240, 'use 128..10240 MB');
  const timeoutSeconds = o.timeout ? o.timeout.toSeconds() : (dsl.timeoutSeconds ?? DEFAULTS.timeoutSeconds);
  intIn(path, prop(o.timeout ? 'timeout' : 'timeoutSeconds'), timeoutSeconds, 1, 900, 'use 1..900 seconds (Lambda maximum)');

  const pollersIn = o.pollers ?? dsl.pollers;
  let pollers: { min: number; max: number } | undefined;
  if (pollersIn !== undefined && pollersIn !== 'on-demand') {
    const name = prop('pollers');
    intIn(path, `${name}.min`, pollersIn.min, 1, 200, 'provisioned mode takes 1..200 minimum pollers');
    intIn(path, `${name}.max`, pollersIn.max, 1, 2000, 'provisioned mode takes 1..2000 maximum pollers');
    if (pollersIn.min > pollersIn.max) throw new WeirPropError(path, name, pollersIn, 'must have min <= max', 'lower min or raise max');
    pollers = { min: pollersIn.min, max: pollersIn.max };
  }

  const source = sourceStartingPosition(p, stage);
  const startingPosition = o.startingPosition ?? source.position;
  const startingPositionTimestamp = o.startingPositionTimestamp ?? (startingPosition === lambda.StartingPosition.AT_TIMESTAMP ? source.timestamp : undefined);
  if (startingPosition === lambda.StartingPosition.AT_TIMESTAMP && startingPositionTimestamp === undefined) {
    throw new WeirPropError(path, prop('startingPositionTimestamp'), undefined, 'is required with startingPosition AT_TIMESTAMP', 'give the Unix time in seconds to start from');
  }

  const onFailure: OnFailureProps = o.onFailure ?? (pollers ? { kind: 'failed-topic' } : { kind: 'none' });
  const retryAttempts = o.retryAttempts ?? (onFailure.kind === 'none' ? undefined : DEFAULTS.retryAttempts);
  if (retryAttempts !== undefined && retryAttempts !== -1) intIn(path, prop('retryAttempts'), retryAttempts, 0, 10_000, 'use -1 (infinite) or 0..10000');

  return {
    batchSize,
    batchingWindow: Duration.seconds(windowSeconds),
    startingPosition,
    ...(startingPositionTimestamp !== undefined ? { startingPositionTimestamp } : {}),
    memorySize,
    timeout: Duration.seconds(timeoutSeconds),
    ...(pollers ? { pollers } : {}),
    onFailure,
    ...(retryAttempts !== undefined ? { retryAttempts } : {}),
  };
}

function sourceStartingPosition(p: Pipeline, stage: StagePlan): { position: lambda.StartingPosition; timestamp?: number } {
  if (!stage.isSource) return { position: lambda.StartingPosition.TRIM_HORIZON };
  const source = stage.nodeIds.map((id) => p.nodes()[id] as GraphNode).find((n) => n.kind === 'source');
  const sp = source?.kind === 'source' ? source.source.startingPosition : 'TRIM_HORIZON';
  if (sp === 'LATEST') return { position: lambda.StartingPosition.LATEST };
  if (sp === 'TRIM_HORIZON') return { position: lambda.StartingPosition.TRIM_HORIZON };
  return { position: lambda.StartingPosition.AT_TIMESTAMP, timestamp: Math.floor(sp.atTimestamp / 1000) };
}

export function intIn(path: string, prop: string, value: number, min: number, max: number, fix: string): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new WeirPropError(path, prop, value, `must be an integer in ${min}..${max}`, fix);
  }
}
