import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MetricName } from '../shared/runtime/ports';

/**
 * Logs and metrics of a stage function, on in Lambda only: the CDK construct sets
 * WEIR_METRICS_NAMESPACE; the local emulator does not, so its stdout stays quiet.
 *
 * Metrics are CloudWatch embedded metric format lines (Powertools), namespace
 * WEIR_METRICS_NAMESPACE, dimensions { service: <pipeline>, stage: <stage id> }: every counter the
 * executor keeps (recordsIn, recordsOut, lateRecords, dlqRecords, windowsFired, stateWrites, ...)
 * plus batchDurationMs. Logs never carry record keys or values: only counts, ids and errors.
 */
export interface StageObservability {
  /** Records one invocation's outcome. */
  invocation(o: InvocationOutcome): void;
}

export interface InvocationOutcome {
  readonly kind: 'batch' | 'tick' | 'finish';
  readonly durationMs: number;
  readonly metrics?: Partial<Record<MetricName, number>>;
  /** Record count per `topic-partition` key of the MSK event (never the records themselves). */
  readonly partitions?: Readonly<Record<string, number>>;
  readonly error?: unknown;
}

/** The dimension set every Weir metric carries; the construct's alarms use the same. */
export function metricDimensions(pipeline: string, stage: string): { service: string; stage: string } {
  return { service: pipeline, stage };
}

export const DURATION_METRIC = 'batchDurationMs';

const NOOP: StageObservability = { invocation: () => undefined };

export function stageObservability(env: NodeJS.ProcessEnv, pipeline: string, stage: string): StageObservability {
  const namespace = env.WEIR_METRICS_NAMESPACE;
  if (!namespace) return NOOP;
  const dims = metricDimensions(pipeline, stage);
  const logger = new Logger({ serviceName: pipeline, persistentKeys: { stage } });
  const metrics = new Metrics({ namespace, serviceName: dims.service, defaultDimensions: { stage: dims.stage } });
  return {
    invocation(o) {
      for (const [name, value] of Object.entries(o.metrics ?? {})) {
        if (typeof value === 'number' && value > 0) metrics.addMetric(name, MetricUnit.Count, value);
      }
      metrics.addMetric(DURATION_METRIC, MetricUnit.Milliseconds, o.durationMs);
      metrics.publishStoredMetrics();
      const summary = { kind: o.kind, durationMs: Math.round(o.durationMs), partitions: o.partitions, metrics: o.metrics };
      if (o.error !== undefined) {
        const err = o.error instanceof Error ? o.error : new Error(String(o.error));
        logger.error('invocation failed', { ...summary, error: { name: err.name, message: err.message, code: (err as { code?: unknown }).code } });
      } else {
        logger.info('invocation done', summary);
      }
    },
  };
}
