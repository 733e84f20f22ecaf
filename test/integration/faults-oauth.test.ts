import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createKafka, mskIamSasl } from '../../shared/adapters/kafka/kafka-config';
import { recordRow } from '../support/reliability';

// Row 13 of the fault matrix: the OAUTHBEARER token (what MSK IAM auth sends) expires during a
// long run and the client re-authenticates. A second Kafka broker of this test's own (own dir
// and ports) gets a SASL_PLAINTEXT listener with OAUTHBEARER and Kafka's unsecured token
// validator, so tokens are unsigned JWTs (alg none) with a short `exp`. The client is Weir's
// own MSK IAM SASL mechanism (mskIamSasl, as the stage functions use it) with the signer
// replaced by one that issues such tokens. The broker limits every session to the token's
// lifetime (connections.max.reauth.ms on the listener), and kafkajs re-authenticates a live
// connection before its session ends. A small TCP relay in front of the listener counts the
// connections, so re-authentication on live connections is told apart from reconnecting.
jest.setTimeout(240_000);

const ROOT = resolve(__dirname, '../..');
const TOKEN_LIFETIME_S = 12;

function script(args: readonly string[], env: Record<string, string>, timeoutMs: number): Promise<string> {
  return new Promise((ok, fail) => {
    execFile('bash', [join(ROOT, 'scripts/local', args[0] as string), ...args.slice(1)], { cwd: ROOT, env: { ...process.env, ...env }, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) =>
      err ? fail(new Error(`scripts/local/${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`)) : ok(stdout),
    );
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, '127.0.0.1', ok));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

/** An unsecured JWT (alg none) as Kafka's OAuthBearerUnsecuredValidatorCallbackHandler accepts. */
function unsecuredJwt(sub: string, lifetimeS: number): { token: string; expiryTime: number } {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Date.now() / 1000;
  const exp = Math.floor(now) + lifetimeS;
  return { token: `${b64({ alg: 'none' })}.${b64({ sub, iat: Math.floor(now), exp })}.`, expiryTime: exp * 1000 };
}

describe('row 13: the OAUTHBEARER token expires during a long run', () => {
  let dir = '';
  let env: Record<string, string> = {};
  let relay: Server | undefined;
  const sockets = new Set<Socket>();
  let connections = 0;
  let relayPort = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-oauth-'));
    const [kafkaPort, controllerPort, saslPort] = [await freePort(), await freePort(), await freePort()];
    relayPort = await freePort();
    env = {
      WEIR_LOCAL_DIR: dir,
      WEIR_KAFKA_PORT: String(kafkaPort),
      WEIR_KAFKA_CONTROLLER_PORT: String(controllerPort),
      WEIR_KAFKA_HEAP_OPTS: '-Xms128m -Xmx384m',
      // Later keys win in a properties file: these redefine the listeners with an OAUTH one.
      WEIR_KAFKA_EXTRA_CONFIG: [
        `listeners=PLAINTEXT://127.0.0.1:${kafkaPort},CONTROLLER://127.0.0.1:${controllerPort},OAUTH://127.0.0.1:${saslPort}`,
        `advertised.listeners=PLAINTEXT://127.0.0.1:${kafkaPort},OAUTH://127.0.0.1:${relayPort}`,
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,OAUTH:SASL_PLAINTEXT',
        'listener.name.oauth.sasl.enabled.mechanisms=OAUTHBEARER',
        'listener.name.oauth.oauthbearer.sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub="weir";',
        'listener.name.oauth.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler',
        // Sessions end with the token (the broker takes the smaller of this and the token's exp).
        'listener.name.oauth.oauthbearer.connections.max.reauth.ms=600000',
      ].join('\n'),
    };
    await script(['restart-one.sh', 'kafka'], env, 150_000);
    // The relay: the advertised OAUTH address, forwarding to the listener, counting connections.
    relay = createServer((client) => {
      connections++;
      const upstream = connect(saslPort, '127.0.0.1');
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((ok) => (relay as Server).listen(relayPort, '127.0.0.1', ok));
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    if (relay) await new Promise<void>((ok) => (relay as Server).close(() => ok()));
    if (!dir) return;
    try {
      await script(['down.sh', 'kafka'], env, 90_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('re-authenticates live connections with fresh tokens and delivers every record', async () => {
    const issued: number[] = [];
    const signer = async (): Promise<{ token: string; expiryTime: number }> => {
      const t = unsecuredJwt('weir', TOKEN_LIFETIME_S);
      issued.push(Date.now());
      return t;
    };
    // Weir's MSK IAM SASL mechanism, plaintext here (TLS in the deployed config).
    const kafka = createKafka({ brokers: [`127.0.0.1:${relayPort}`], clientId: 'weir-oauth-test', sasl: mskIamSasl('us-east-1', signer) });
    const topic = 'oauth-records';
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const consumer = kafka.consumer({ groupId: 'oauth-reader', maxWaitTimeInMs: 100 });
    const received = new Map<string, number>();
    const N = 120;
    try {
      await admin.connect();
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 2 }] });
      await producer.connect();
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void received.set(String(message.value), (received.get(String(message.value)) ?? 0) + 1) });
      // A run of about three token lifetimes: one record every 300 ms.
      const started = Date.now();
      for (let i = 0; i < N; i++) {
        await producer.send({ topic, acks: -1, messages: [{ key: `k${i % 7}`, value: `r${i}` }] });
        await new Promise((r) => setTimeout(r, 300));
      }
      const deadline = Date.now() + 60_000;
      while (received.size < N && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      const elapsedS = (Date.now() - started) / 1000;
      const lost = Array.from({ length: N }, (_, i) => `r${i}`).filter((v) => !received.has(v));
      const duplicated = [...received.values()].filter((n) => n > 1).length;
      process.stderr.write(`[faults-oauth] ${N} records over ${elapsedS.toFixed(0)} s, tokens of ${TOKEN_LIFETIME_S} s: ${issued.length} tokens issued on ${connections} connections; ${lost.length} lost, ${duplicated} duplicated\n`);
      recordRow({
        row: '13',
        injected: `second local broker with a SASL_PLAINTEXT OAUTHBEARER listener (Kafka's unsecured JWT validator, session = token lifetime); Weir's MSK IAM SASL mechanism with a signer issuing ${TOKEN_LIFETIME_S} s tokens; producer and consumer run for several token lifetimes`,
        recordsIn: N,
        // Producer and consumer only: no pipeline, so no dead-letter topic.
        dlq: 0,
        lost: lost.length,
        duplicated,
        outcome: 'every record delivered once; tokens re-signed and live connections re-authenticated (more tokens than connections) before their sessions ended',
        test: 'test/integration/faults-oauth.test.ts: row 13',
      });
      expect(lost).toEqual([]);
      expect(duplicated).toBe(0);
      // Re-authentication, not reconnection: more tokens were asked for than connections opened.
      expect(issued.length).toBeGreaterThan(connections);
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  });
});
