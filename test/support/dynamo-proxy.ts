import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the stage functions sent to DynamoDB, as the proxy sees it. */
export interface ProxiedRequest {
  /** The operation: `TransactWriteItems`, `GetItem`, ... (from X-Amz-Target). */
  readonly op: string;
  readonly body: string;
  /** 1, 2, ... in arrival order. */
  readonly seq: number;
  /** The client's port (its end of the connection), to find the process that sent it. */
  readonly clientPort: number;
}

/**
 * What the proxy does with a request:
 * - forward: to DynamoDB Local, answer with its response;
 * - error: answer without forwarding (throttling, a 500), as DynamoDB's JSON protocol does;
 * - hold: wait for `until()` (called when the request arrives), then forward (a request stuck in the network; its client may be
 *   gone by then, the write still lands, as a zombie's would), or with `drop` never forward it;
 * - kill-before / kill-after: SIGKILL the stage process that sent it, before forwarding the
 *   request or after DynamoDB applied it (no response ever reaches the dead process).
 */
export type ProxyAction =
  | { readonly kind: 'forward' }
  | { readonly kind: 'error'; readonly status: number; readonly type: string; readonly message: string }
  | { readonly kind: 'hold'; readonly until: () => Promise<unknown>; readonly drop?: boolean }
  | { readonly kind: 'kill-before' }
  | { readonly kind: 'kill-after' };

export interface ProxiedResponse {
  readonly status: number;
  readonly body: string;
}

export type Decide = (r: ProxiedRequest) => ProxyAction;

/**
 * An in-process HTTP proxy in front of DynamoDB Local that injects faults into the stage
 * functions' DynamoDB traffic (point WEIR_DYNAMODB_ENDPOINT, i.e. runLocal's dynamoEndpoint, at it).
 */
export class DynamoProxy {
  private server: Server | undefined;
  private seq = 0;
  readonly injected: Record<string, number> = {};
  /** Responses DynamoDB gave to held requests, in release order. */
  readonly heldResults: Array<{ request: ProxiedRequest; response: ProxiedResponse }> = [];
  /** Every forwarded request's outcome, for assertions. */
  readonly onResponse: Array<(r: ProxiedRequest, res: ProxiedResponse) => void> = [];

  constructor(
    private readonly upstream: string,
    private readonly decide: Decide,
  ) {}

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((ok) => s.close(() => ok()));
  }

  private count(what: string): void {
    this.injected[what] = (this.injected[what] ?? 0) + 1;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? '');
    const r: ProxiedRequest = { op: target.slice(target.indexOf('.') + 1), body, seq: ++this.seq, clientPort: req.socket.remotePort ?? 0 };
    const action = this.decide(r);
    try {
      if (action.kind === 'error') {
        this.count(action.type);
        const payload = JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${action.type}`, message: action.message });
        res.writeHead(action.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `weir-proxy-${r.seq}` }).end(payload);
        return;
      }
      if (action.kind === 'kill-before') {
        this.count('kill-before');
        killClient(r.clientPort);
        res.destroy();
        return;
      }
      if (action.kind === 'hold') {
        this.count('hold');
        await action.until();
        if (action.drop) {
          res.destroy();
          return;
        }
      }
      const response = await this.forward(req, body);
      for (const f of this.onResponse) f(r, response);
      if (action.kind === 'hold') this.heldResults.push({ request: r, response });
      if (action.kind === 'kill-after') {
        this.count('kill-after');
        killClient(r.clientPort);
        res.destroy();
        return;
      }
      if (!res.destroyed) res.writeHead(response.status, { 'content-type': 'application/x-amz-json-1.0' }).end(response.body);
    } catch {
      res.destroy();
    }
  }

  private forward(req: IncomingMessage, body: string): Promise<ProxiedResponse> {
    const url = new URL(this.upstream);
    return new Promise((ok, fail) => {
      const headers = { ...req.headers, host: url.host };
      const up = httpRequest({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers }, (r) => {
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => ok({ status: r.statusCode ?? 500, body: Buffer.concat(parts).toString('utf8') }));
        r.on('error', fail);
      });
      up.on('error', fail);
      up.end(body);
    });
  }
}

/**
 * SIGKILLs the stage process (a child of this process running the sandbox runner) whose
 * connection uses local port `clientPort`: found through /proc/net/tcp and its open sockets.
 * Never touches any other process.
 */
export function killClient(clientPort: number): boolean {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      const local = f[1];
      if (!local) continue;
      if (parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === clientPort) inodes.add(f[9] ?? '');
    }
  }
  for (const pid of childPids()) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let link = '';
      try {
        link = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m && inodes.has(m[1] as string)) {
        process.kill(pid, 'SIGKILL');
        return true;
      }
    }
  }
  return false;
}

/** Stage sandboxes started by this process (runner.cjs children). */
function childPids(): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('runner.cjs')) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Throttling and transient errors as DynamoDB answers them. */
export const THROTTLE: ProxyAction = { kind: 'error', status: 400, type: 'ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded.' };
export const THROTTLING: ProxyAction = { kind: 'error', status: 400, type: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' };
export const INTERNAL: ProxyAction = { kind: 'error', status: 500, type: 'InternalServerError', message: 'Internal server error (injected)' };
