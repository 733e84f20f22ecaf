import { resolve } from 'node:path';
import { checkControlEvent, LOCAL_RUNTIME_ENV, type ControlEvent } from '../functions/control-events';
import { stageHandler } from '../functions/stage-handler';
import { localStageEnv } from '../shared/local/stage-env';
import { loadPipeline } from '../shared/local/load-pipeline';

// Issue 11 item 9: `{weir: 'finish'}` sets a source partition's watermark to +infinity for
// good, so a deployed handler must refuse it; only the local runtime may send it.
const p = loadPipeline(resolve(__dirname, '../examples/windowed-wordcount.ts'));
const finish: ControlEvent = { weir: 'finish', topic: 'lines', partition: 0 };

describe('the finish control event', () => {
  const saved = process.env[LOCAL_RUNTIME_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[LOCAL_RUNTIME_ENV];
    else process.env[LOCAL_RUNTIME_ENV] = saved;
  });

  it('is refused by a deployed stage handler (no local runtime variable), before any client is built', async () => {
    delete process.env[LOCAL_RUNTIME_ENV];
    const handler = stageHandler(p, 's0');
    await expect(handler(finish)).rejects.toThrow(
      "control event {weir: 'finish'} is refused: it ends a source partition's event time for good and only the local runtime (weir run --local, which sets WEIR_LOCAL_RUNTIME=1) may send it; a deployed stage never needs it",
    );
  });

  it('is accepted under the local stage environment, and only there', () => {
    const env = localStageEnv({ brokers: 'b:9092', prefix: 'x-', tables: { state: 's', progress: 'p' }, dynamoEndpoint: 'http://d', partitions: 1 });
    expect(env[LOCAL_RUNTIME_ENV]).toBe('1');
    expect(checkControlEvent(finish, env)).toBe(finish);
    expect(() => checkControlEvent(finish, {})).toThrow(/is refused/);
    expect(() => checkControlEvent(finish, { [LOCAL_RUNTIME_ENV]: 'true' })).toThrow(/is refused/);
  });

  it('names the field at fault; tick and init stay allowed everywhere', () => {
    const local = { [LOCAL_RUNTIME_ENV]: '1' };
    expect(() => checkControlEvent({ weir: 'finish', topic: '', partition: 0 }, local)).toThrow(`control event {weir: 'finish'} field "topic" must be a topic name, got ""`);
    expect(() => checkControlEvent({ weir: 'finish', topic: 'lines', partition: -1 }, local)).toThrow(`control event {weir: 'finish'} field "partition" must be a partition number, got -1`);
    expect(() => checkControlEvent({ weir: 'stop' } as unknown as ControlEvent, {})).toThrow('control event field "weir" must be "tick", "init" or "finish", got "stop"');
    expect(checkControlEvent({ weir: 'tick' }, {})).toEqual({ weir: 'tick' });
    expect(checkControlEvent({ weir: 'init' }, {})).toEqual({ weir: 'init' });
  });
});
