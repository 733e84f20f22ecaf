/** Weir's public API: build a pipeline, plan it, run it embedded or deploy it. */
export { pipeline, Pipeline, DataStream, KeyedStream, WindowedStream, type PipelineOptions } from './pipeline';
export { kafkaSource, type KafkaSourceOptions, type EventTimeOptions, type SourceSpec, type SourceElement, type StartingPosition } from './sources';
export { kafkaSink, dynamoSink, functionSink, type SinkSpec, type SinkRecord, type KafkaSinkSpec, type DynamoSinkSpec, type FunctionSinkSpec } from './sinks';
export { tumbling, sliding, session, countWindow, globalWindow, countTrigger, type WindowAssignerSpec, type TriggerSpec, type TimeDomain } from './windows';
export { count, sum, min, max, avg, reducing, collecting, type AggregateFunction, type Average } from './aggregates';
export {
  valueState,
  listState,
  mapState,
  type KeyedProcessFunction,
  type ProcessContext,
  type Collector,
  type TimerService,
  type ValueState,
  type ListState,
  type MapState,
  type StateSpec,
} from './state';
export type { SerdeName } from './serde';
export type { Json, Key, KeyJson, KeyValue, RecordMeta, StageSettings, TimeWindow } from './types';
export { WeirError, PipelineError, ConfigError, RecordError } from '../runtime/errors';
