import { InvocationError } from './invoker';

/** What the trigger emulator needs of a function: invoke it, and drop its sandbox after a fault. */
export interface FunctionInvoker {
  readonly initMs: number[];
  invoke(event: unknown): Promise<unknown>;
  kill(): void;
}

/**
 * Invokes a function deployed behind a Lambda-compatible API (LocalStack), with the Invoke
 * REST call: POST /2015-03-31/functions/{name}/invocations, RequestResponse. LocalStack
 * accepts any credentials, so the request carries a placeholder SigV4 header naming the region.
 */
export class LambdaApiInvoker implements FunctionInvoker {
  readonly initMs: number[] = [];

  constructor(
    private readonly endpoint: string,
    private readonly functionName: string,
    private readonly region = 'us-east-1',
    private readonly timeoutMs = 60_000,
  ) {}

  async invoke(event: unknown): Promise<unknown> {
    const url = `${this.endpoint.replace(/\/$/, '')}/2015-03-31/functions/${encodeURIComponent(this.functionName)}/invocations`;
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-amz-invocation-type': 'RequestResponse',
          authorization: `AWS4-HMAC-SHA256 Credential=test/${day}/${this.region}/lambda/aws4_request, SignedHeaders=host, Signature=0`,
        },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new InvocationError('crash', `${this.functionName}: could not reach ${url} (${(err as Error).message}); is LocalStack running and the stack deployed?`);
    }
    const text = await res.text();
    if (!res.ok) throw new InvocationError('crash', `${this.functionName}: ${url} answered ${res.status}: ${text.slice(0, 200)}`);
    const body: unknown = text ? JSON.parse(text) : null;
    if (res.headers.get('x-amz-function-error')) {
      const e = body as { errorType?: string; errorMessage?: string } | null;
      throw new InvocationError('function-error', `${this.functionName}: ${e?.errorType ?? 'Error'}: ${e?.errorMessage ?? text.slice(0, 200)}`);
    }
    return body;
  }

  /** A remote sandbox cannot be killed from here; the next invocation simply goes on. */
  kill(): void {}
}
