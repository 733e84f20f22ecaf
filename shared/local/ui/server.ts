import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../runtime/errors';
import type { UiSnapshot } from './snapshot';

export interface SnapshotSource {
  latest(): UiSnapshot;
  subscribe(listener: (s: UiSnapshot) => void): () => void;
}

export interface UiServer {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the page on 127.0.0.1 only: `GET /` the page, `GET /events` a Server-Sent Events
 * stream with one snapshot per refresh, `GET /snapshot.json` the latest snapshot.
 * `port` 0 takes a free port.
 */
export async function serveUi(source: SnapshotSource, page: string, port = 0): Promise<UiServer> {
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(page);
    } else if (path === '/snapshot.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(source.latest()));
    } else if (path === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      const send = (s: UiSnapshot): void => void res.write(`data: ${JSON.stringify(s)}\n\n`);
      res.write('retry: 1000\n\n');
      send(source.latest());
      const unsubscribe = source.subscribe(send);
      streams.add(res);
      req.on('close', () => {
        unsubscribe();
        streams.delete(res);
      });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the page is at /\n');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => fail(portError(err, port)));
    server.listen(port, '127.0.0.1', ok);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () =>
      new Promise<void>((done) => {
        for (const r of streams) r.end();
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}

/** Throws a ConfigError that says what to do when `port` on 127.0.0.1 cannot be listened on. */
export async function assertPortFree(port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((ok, fail) => {
    probe.once('error', (err: NodeJS.ErrnoException) => fail(portError(err, port)));
    probe.listen(port, '127.0.0.1', ok);
  });
  await new Promise<void>((done) => probe.close(() => done()));
}

function portError(err: NodeJS.ErrnoException, port: number): Error {
  if (err.code === 'EADDRINUSE') return new ConfigError(`port ${port} on 127.0.0.1 is in use; pick another with --ui-port <port>, or leave --ui-port out to take a free one`);
  if (err.code === 'EACCES') return new ConfigError(`port ${port} on 127.0.0.1 needs privileges; pick one above 1023 with --ui-port <port>`);
  return err;
}
