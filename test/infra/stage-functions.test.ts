import { readStageConfig } from '../../functions/config';
import { kafkaSecurity, readKafkaAuthMode } from '../../functions/kafka-auth';
import { stageObservability } from '../../functions/observability';

describe('kafka-auth (WEIR_KAFKA_AUTH)', () => {
  test('none is plaintext; iam is TLS + OAUTHBEARER signed per (re)authentication', async () => {
    expect(await kafkaSecurity({}, 'eu-west-1')).toEqual({});
    let signed = 0;
    const sec = await kafkaSecurity({ WEIR_KAFKA_AUTH: 'iam' }, 'eu-west-1', { signer: async (region) => ({ token: `tok-${region}-${++signed}`, expiryTime: 0 }) });
    expect(sec.ssl).toBe(true);
    expect(sec.sasl?.mechanism).toBe('oauthbearer');
    const provider = (sec.sasl as { oauthBearerProvider: () => Promise<{ value: string }> }).oauthBearerProvider;
    expect(await provider()).toEqual({ value: 'tok-eu-west-1-1' });
    expect(await provider()).toEqual({ value: 'tok-eu-west-1-2' });
  });

  test('scram reads {username,password} from the secret; errors name the variable', async () => {
    const env = { WEIR_KAFKA_AUTH: 'scram', WEIR_KAFKA_SCRAM_SECRET_ARN: 'arn:secret' };
    const sec = await kafkaSecurity(env, 'eu-west-1', { readSecret: async (arn) => (arn === 'arn:secret' ? '{"username":"u","password":"p"}' : '') });
    expect(sec).toEqual({ ssl: true, sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' } });
    await expect(kafkaSecurity({ WEIR_KAFKA_AUTH: 'scram' }, 'r')).rejects.toThrow(/^WEIR_KAFKA_SCRAM_SECRET_ARN is not set/);
    await expect(kafkaSecurity(env, 'r', { readSecret: async () => '{"username":1}' })).rejects.toThrow('needs string fields "username" and "password"');
    expect(() => readKafkaAuthMode({ WEIR_KAFKA_AUTH: 'tls' })).toThrow('WEIR_KAFKA_AUTH must be "none", "iam" or "scram", got "tls"');
    // The stage's configuration takes every mode kafkaSecurity knows, and refuses others with the same message.
    expect(readStageConfig({ ...env, WEIR_STAGE: 's0' }).kafkaAuth).toBe('scram');
    expect(readStageConfig({ WEIR_STAGE: 's0', WEIR_KAFKA_AUTH: 'iam' }).kafkaAuth).toBe('iam');
    expect(() => readStageConfig({ WEIR_STAGE: 's0', WEIR_KAFKA_AUTH: 'tls' })).toThrow('WEIR_KAFKA_AUTH must be "none", "iam" or "scram", got "tls"');
  });
});

describe('stage observability', () => {
  const capture = (fn: () => void): string => {
    const lines: string[] = [];
    const spies = [jest.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true)), jest.spyOn(console, 'log').mockImplementation((...a) => void lines.push(a.join(' '))), jest.spyOn(console, 'info').mockImplementation((...a) => void lines.push(a.join(' ')))];
    try {
      fn();
    } finally {
      for (const s of spies) s.mockRestore();
    }
    return lines.join('\n');
  };

  test('silent without WEIR_METRICS_NAMESPACE (the local emulator)', () => {
    expect(capture(() => stageObservability({}, 'wc', 's1').invocation({ kind: 'batch', durationMs: 5, metrics: { recordsIn: 3 } }))).toBe('');
  });

  test('emits EMF metrics with the dimensions the alarms use, and never a payload', () => {
    const out = capture(() =>
      stageObservability({ WEIR_METRICS_NAMESPACE: 'Weir' }, 'wc', 's1').invocation({ kind: 'batch', durationMs: 12, metrics: { recordsIn: 500, dlqRecords: 2, stateWrites: 40 }, partitions: { 'lines-0': 500 } }),
    );
    const emf = out.split('\n').map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return undefined; } }).find((o) => o && '_aws' in o) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };
    expect(emf).toBeDefined();
    const cw = emf._aws.CloudWatchMetrics[0];
    expect(cw?.Namespace).toBe('Weir');
    expect(cw?.Dimensions[0]?.sort()).toEqual(['service', 'stage']);
    expect(emf).toMatchObject({ service: 'wc', stage: 's1', recordsIn: 500, dlqRecords: 2, stateWrites: 40, batchDurationMs: 12 });
    expect(out).toContain('invocation done');
    expect(out).toContain('"lines-0":500');
  });
});
