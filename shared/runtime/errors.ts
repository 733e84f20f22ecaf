/**
 * One error base for all of Weir. `code` is stable for programs, `retriable` tells a runtime
 * whether the same batch may succeed on retry, and messages name the operator, field or record.
 */
export const ERROR_CODES = [
  'PIPELINE_INVALID',
  'CONFIG_INVALID',
  'RECORD_UNDECODABLE',
  'USER_FUNCTION_FAILED',
  'STATE_CONFLICT',
  'STATE_TOO_LARGE',
  'INJECTED_CRASH',
  'INPUT_INVALID',
  'RUN_INCOMPLETE',
] as const;
export type WeirErrorCode = (typeof ERROR_CODES)[number];

export class WeirError extends Error {
  readonly code: WeirErrorCode;
  readonly retriable: boolean;
  constructor(code: WeirErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** The pipeline cannot be planned; the message names the operator and what to change. */
export class PipelineError extends WeirError {
  constructor(message: string) {
    super('PIPELINE_INVALID', message);
  }
}

/** A setting is missing or out of range; the message names the field. */
export class ConfigError extends WeirError {
  constructor(message: string) {
    super('CONFIG_INVALID', message);
  }
}

/** A record could not be decoded or failed validation: it goes to the dead-letter topic. */
export class RecordError extends WeirError {
  constructor(code: 'RECORD_UNDECODABLE' | 'USER_FUNCTION_FAILED', message: string, cause?: unknown) {
    super(code, message, { cause });
  }
}

/** Another invocation wrote the key first (zombie or overlapping batch): retry the batch. */
export class StateConflictError extends WeirError {
  constructor(message: string) {
    super('STATE_CONFLICT', message, { retriable: true });
  }
}

/** A crash injected by a chaos run; the runtime retries as Lambda would. */
export class InjectedCrash extends WeirError {
  constructor(point: string) {
    super('INJECTED_CRASH', `chaos: injected crash at ${point}`, { retriable: true });
  }
}

/** A line of a local input file is malformed; the message names the line. */
export class InputError extends WeirError {
  constructor(message: string) {
    super('INPUT_INVALID', message);
  }
}

export function describeError(err: unknown): string {
  if (err instanceof WeirError) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * A stage partition's state does not fit in what an environment may hold of it: more
 * partitions (keys spread over more environments) or more function memory is the fix.
 */
export class PartitionTooLargeError extends WeirError {
  constructor(
    readonly scope: string,
    readonly bytes: number,
    readonly limit: number,
  ) {
    super(
      'STATE_TOO_LARGE',
      `partition ${scope} holds ${Math.ceil(bytes / 1e6)} MB of state, over the ${Math.floor(limit / 1e6)} MB an environment may cache (WEIR_STATE_CACHE_MB, default a ninth of the function's memory in JSON bytes): give the stage more partitions (its keys spread over more environments) or more memory`,
    );
  }
}
