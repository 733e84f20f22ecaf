import { get } from 'node:http';
import { serveUi } from '../shared/local/ui/server';
import type { UiSnapshot } from '../shared/local/ui/snapshot';

const snap = (n: number): UiSnapshot => ({
  pipeline: 'p',
  at: n,
  startedAt: 0,
  stages: [],
  partitions: [],
  windows: { open: n, keys: 0, truncated: false },
  dlq: { topic: 'p-dlq', records: 0 },
  late: [],
  sinks: [],
  results: [],
  problems: [],
});

const fetchText = async (url: string): Promise<{ status: number; type: string; body: string }> => {
  const r = await fetch(url);
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() };
};

describe('weir dev --ui server', () => {
  it('serves the page, the latest snapshot, and pushes each new snapshot over Server-Sent Events', async () => {
    // GIVEN a source whose snapshots we publish by hand
    let latest = snap(1);
    const listeners = new Set<(s: UiSnapshot) => void>();
    const server = await serveUi({ latest: () => latest, subscribe: (l) => (listeners.add(l), () => listeners.delete(l)) }, '<!doctype html><p>page</p>');
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(await fetchText(server.url)).toEqual({ status: 200, type: 'text/html; charset=utf-8', body: '<!doctype html><p>page</p>' });
      expect(JSON.parse((await fetchText(`${server.url}snapshot.json`)).body)).toEqual(snap(1));
      expect((await fetchText(`${server.url}nope`)).status).toBe(404);
      // WHEN a client listens to /events and a new snapshot is published
      const events = await new Promise<UiSnapshot[]>((done, fail) => {
        const got: UiSnapshot[] = [];
        let buffer = '';
        get(`${server.url}events`, (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          res.on('data', (chunk: Buffer) => {
            buffer += chunk.toString();
            for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
              const frame = buffer.slice(0, i);
              buffer = buffer.slice(i + 2);
              if (frame.startsWith('data: ')) got.push(JSON.parse(frame.slice(6)) as UiSnapshot);
              if (got.length === 1 && listeners.size === 1) {
                latest = snap(2);
                for (const l of listeners) l(latest);
              }
              if (got.length === 2) {
                res.destroy();
                done(got);
              }
            }
          });
        }).on('error', fail);
      });
      // THEN it gets the current snapshot at once, then the new one
      expect(events.map((s) => s.at)).toEqual([1, 2]);
    } finally {
      await server.close();
    }
  });

  it('a port in use says what to do', async () => {
    const first = await serveUi({ latest: () => snap(0), subscribe: () => () => undefined }, '');
    try {
      const port = Number(new URL(first.url).port);
      await expect(serveUi({ latest: () => snap(0), subscribe: () => () => undefined }, '', port)).rejects.toThrow(
        `port ${port} on 127.0.0.1 is in use; pick another with --ui-port <port>, or leave --ui-port out to take a free one`,
      );
    } finally {
      await first.close();
    }
  });
});
