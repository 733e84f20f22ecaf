import type { Pipeline } from '../shared/api/pipeline';
import { createDynamoClient, DynamoCommitLog, DynamoProgressStore, DynamoSinkWriter, meterClient, type DynamoUsage } from '../shared/adapters/dynamodb';
import { createKafka, parseBrokers } from '../shared/adapters/kafka/kafka-config';
import { KafkaProducer } from '../shared/adapters/kafka/kafka-producer';
import { planPipeline } from '../shared/plan/planner';
import { StageExecutor, type BatchReport, type FaultHook } from '../shared/runtime/executor';
import { functionSinksOf } from '../shared/runtime/function-sinks';
import type { MskEvent } from '../shared/runtime/msk-event';
import type { MetricName } from '../shared/runtime/ports';
import { stageClock } from './clock';
import { readStageConfig } from './config';
import { checkControlEvent, isControlEvent, type ControlEvent } from './control-events';
import { selfKillingFaults } from './faults';
import { kafkaSecurity } from './kafka-auth';
import { stageObservability } from './observability';

export interface HandlerResult extends Partial<BatchReport> {
  readonly metrics: Partial<Record<MetricName, number>>;
  /** DynamoDB requests and consumed capacity of this invocation. */
  readonly dynamo: DynamoUsage;
}

const NO_METER: ReturnType<typeof meterClient> = { usage: () => ({ writeRequests: 0, readRequests: 0, writeUnits: 0, readUnits: 0 }), reset: () => undefined };

/**
 * The Lambda entry of one stage: builds clients once per container, then hands each MSK
 * event to the stage executor. It only wires; all logic is in the executor.
 */
export function stageHandler(p: Pipeline, stageId?: string): (event: MskEvent | ControlEvent) => Promise<HandlerResult> {
  type Ready = { executor: StageExecutor; metrics: Partial<Record<MetricName, number>>; partitionsOf: (t: string) => number; prefix: string; meter: ReturnType<typeof meterClient> };
  let ready: Promise<Ready> | undefined;
  const observability = stageObservability(process.env, p.name, stageId ?? process.env.WEIR_STAGE ?? 'unknown');

  const init = async (event: MskEvent | ControlEvent): Promise<Ready> => {
    const cfg = readStageConfig(process.env, stageId);
    const plan = planPipeline(p, { defaultPartitions: cfg.partitions });
    const brokers = parseBrokers(cfg.brokers ?? (isControlEvent(event) ? undefined : event.bootstrapServers), 'WEIR_BROKERS (or the event bootstrapServers)');
    const security = await kafkaSecurity(process.env, cfg.region);
    const kafka = createKafka({ brokers, clientId: `weir-${plan.pipeline}-${cfg.stage}`, ...security });
    const dynamo = createDynamoClient({
      region: cfg.region,
      ...(cfg.dynamoEndpoint ? { endpoint: cfg.dynamoEndpoint } : {}),
    });
    const metrics: Partial<Record<MetricName, number>> = {};
    // Counting every item's bytes only serves the local emulator and the bench (WEIR_METER_DYNAMODB, set by localStageEnv).
    const meter = process.env.WEIR_METER_DYNAMODB === '1' ? meterClient(dynamo) : NO_METER;
    const fault: FaultHook | undefined = cfg.chaosSeed !== undefined ? selfKillingFaults(cfg.chaosSeed) : undefined;
    const executor = new StageExecutor(
      p,
      plan,
      cfg.stage,
      {
        producer: new KafkaProducer(kafka, cfg.topicPrefix, plan.limits.maxMessageBytes),
        log: new DynamoCommitLog({ client: dynamo, table: cfg.stateTable ?? plan.tables.state }),
        progress: new DynamoProgressStore({ client: dynamo, table: cfg.progressTable ?? plan.tables.progress }),
        sinks: new DynamoSinkWriter({ client: dynamo, functions: functionSinksOf(p) }),
        clock: stageClock(process.env),
        metrics: { count: (name, v = 1) => void (metrics[name] = (metrics[name] ?? 0) + v) },
        stateCacheBytes: cfg.stateCacheBytes,
        snapshots: cfg.snapshots,
      },
      fault,
    );
    const partitionsOf = (t: string): number => plan.topics.find((x) => x.name === t)?.partitions ?? cfg.partitions;
    return { executor, metrics, partitionsOf, prefix: cfg.topicPrefix, meter };
  };

  const invoke = async (event: MskEvent | ControlEvent): Promise<HandlerResult> => {
    // A failed init (bad config, secret not readable) is retried by the next invocation.
    ready ??= init(event).catch((err: unknown) => {
      ready = undefined;
      throw err;
    });
    const { executor, metrics, partitionsOf, prefix, meter } = await ready;
    for (const k of Object.keys(metrics)) delete metrics[k as MetricName];
    meter.reset();
    if (isControlEvent(event)) {
      if (event.weir === 'init') return { metrics: {}, dynamo: meter.usage() };
      if (event.weir === 'tick') await executor.tick(partitionsOf);
      else await executor.finishSource(event.topic, event.partition);
      return { metrics: { ...metrics }, dynamo: meter.usage() };
    }
    const report = await executor.handle(stripTopicPrefix(event, prefix));
    return { ...report, metrics: { ...metrics }, dynamo: meter.usage() };
  };

  return async (event) => {
    // Refused before init: a stray control event must not even build clients.
    if (isControlEvent(event)) checkControlEvent(event, process.env);
    // Only builds the clients: nothing to log or count.
    if (isControlEvent(event) && event.weir === 'init') return invoke(event);
    const started = Date.now();
    const kind = isControlEvent(event) ? (event.weir === 'tick' ? 'tick' : 'finish') : 'batch';
    const partitions = isControlEvent(event) ? undefined : Object.fromEntries(Object.entries(event.records).map(([k, list]) => [k, list.length]));
    try {
      const result = await invoke(event);
      observability.invocation({ kind, durationMs: Date.now() - started, metrics: result.metrics, ...(partitions ? { partitions } : {}) });
      return result;
    } catch (err) {
      observability.invocation({ kind, durationMs: Date.now() - started, error: err, ...(partitions ? { partitions } : {}) });
      throw err;
    }
  };
}

/** Topics carry a per-deployment prefix on the wire; the plan knows them without it. */
export function stripTopicPrefix(event: MskEvent, prefix: string): MskEvent {
  if (!prefix) return event;
  const records: Record<string, MskEvent['records'][string]> = {};
  for (const [k, list] of Object.entries(event.records)) {
    const strip = (t: string): string => (t.startsWith(prefix) ? t.slice(prefix.length) : t);
    records[strip(k)] = list.map((r) => ({ ...r, topic: strip(r.topic) }));
  }
  return { ...event, records };
}
