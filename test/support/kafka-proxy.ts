import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

const API_PRODUCE = 0;
const API_METADATA = 3;

/** A response the proxy is about to pass back, and the request it answers. */
export interface ProxiedKafkaResponse {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  /** The client's port (its end of the connection), to find the process that sent the request. */
  readonly clientPort: number;
}

/**
 * What happens to a response:
 * - forward: the client gets it;
 * - drop: the broker has done the work (a produce is appended) but the client never hears of
 *   it; with `downForMs`, the broker then becomes unreachable through the proxy for that
 *   long (every connection closed, new ones closed on accept; Infinity: until `up()`), so the
 *   client's retries fail too and the error reaches the caller, as when a network fault
 *   outlasts the retries.
 */
export type KafkaResponseAction = { readonly kind: 'forward' } | { readonly kind: 'drop'; readonly downForMs?: number };

const FORWARD: KafkaResponseAction = { kind: 'forward' };

/**
 * A TCP proxy on 127.0.0.1 in front of one Kafka broker, for fault tests on the Kafka wire
 * protocol. It rewrites the broker's port in Metadata responses to its own, so a client
 * that bootstraps through it stays behind it (a client only follows the addresses the
 * cluster advertises), and lets `decide` drop responses.
 */
export class KafkaProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private downUntil = 0;
  /** Responses dropped so far, by API key. */
  readonly dropped: ProxiedKafkaResponse[] = [];

  constructor(
    private readonly upstream: { readonly host: string; readonly port: number },
    private readonly decide: (r: ProxiedKafkaResponse) => KafkaResponseAction = () => FORWARD,
  ) {}

  /** Listens on a free port; returns `127.0.0.1:<port>` to give clients as their broker. */
  async start(): Promise<string> {
    const server = createServer((client) => this.pipe(client));
    this.server = server;
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    return `127.0.0.1:${this.port()}`;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    if (s) await new Promise<void>((ok) => s.close(() => ok()));
  }

  private port(): number {
    return (this.server?.address() as AddressInfo).port;
  }

  /** Closes every connection and refuses new ones for `ms` (until `up()` by default). */
  down(ms = Number.POSITIVE_INFINITY): void {
    this.downUntil = Date.now() + ms;
    for (const sock of this.sockets) sock.destroy();
  }

  up(): void {
    this.downUntil = 0;
  }

  private pipe(client: Socket): void {
    if (Date.now() < this.downUntil) return void client.destroy();
    const broker = connect(this.upstream.port, this.upstream.host);
    const clientPort = client.remotePort ?? 0;
    this.sockets.add(client).add(broker);
    const close = (): void => {
      client.destroy();
      broker.destroy();
      this.sockets.delete(client);
      this.sockets.delete(broker);
    };
    client.on('error', close).on('close', close);
    broker.on('error', close).on('close', close);
    const pending = new Map<number, { apiKey: number; apiVersion: number }>();
    client.on(
      'data',
      frames((frame) => {
        // Request header: api_key int16, api_version int16, correlation_id int32, ...
        pending.set(frame.readInt32BE(8), { apiKey: frame.readInt16BE(4), apiVersion: frame.readInt16BE(6) });
        broker.write(frame);
      }),
    );
    broker.on(
      'data',
      frames((frame) => {
        const correlationId = frame.readInt32BE(4);
        const req = pending.get(correlationId);
        pending.delete(correlationId);
        if (!req) return void client.write(frame);
        const r: ProxiedKafkaResponse = { ...req, correlationId, clientPort };
        const action = this.decide(r);
        if (action.kind === 'drop') {
          this.dropped.push(r);
          if (action.downForMs !== undefined) this.down(action.downForMs);
          return;
        }
        if (req.apiKey === API_METADATA) rewriteBrokerPorts(frame, req.apiVersion, this.upstream.port, this.port());
        client.write(frame);
      }),
    );
  }
}

/** Drops the first `n` produce responses, each with `drop` (the rest of the traffic passes). */
export function dropProduceResponses(n: number, drop: Omit<Extract<KafkaResponseAction, { kind: 'drop' }>, 'kind'> = {}): (r: ProxiedKafkaResponse) => KafkaResponseAction {
  let left = n;
  return (r) => (r.apiKey === API_PRODUCE && left-- > 0 ? { kind: 'drop', ...drop } : FORWARD);
}

/** Cuts a byte stream into Kafka frames (int32 size, then that many bytes), whole frames only. */
function frames(onFrame: (frame: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4) {
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) break;
      onFrame(buf.subarray(0, 4 + size));
      buf = buf.subarray(4 + size);
    }
  };
}

/**
 * In place: the port of every broker equal to `from` becomes `to` (same width, so no size
 * changes). Non-flexible Metadata responses (v0-v8; kafkajs 2 speaks v6): header is the
 * correlation id only; throttle_time_ms from v3; brokers [node_id, host, port, rack (v1+)].
 */
function rewriteBrokerPorts(frame: Buffer, version: number, from: number, to: number): void {
  if (version > 8) throw new Error(`KafkaProxy: Metadata v${version} (flexible) is not supported`);
  let at = 8 + (version >= 3 ? 4 : 0);
  const brokers = frame.readInt32BE(at);
  at += 4;
  for (let i = 0; i < brokers; i++) {
    at += 4;
    at += 2 + frame.readInt16BE(at);
    if (frame.readInt32BE(at) === from) frame.writeInt32BE(to, at);
    at += 4;
    if (version >= 1) {
      const rack = frame.readInt16BE(at);
      at += 2 + Math.max(0, rack);
    }
  }
}
