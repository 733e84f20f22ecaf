import type { Pipeline } from '../../api/pipeline';
import { planToSvg } from '../../plan/dot';
import type { PipelinePlan } from '../../plan/types';
import type { InvocationReport } from '../esm/emulator';
import { Collector, type CollectorOptions } from './collector';
import { renderPage, STAGE_NOTE_PLACEHOLDERS } from './page';
import { serveUi } from './server';

export type { UiSnapshot } from './snapshot';

export interface DevUiOptions extends CollectorOptions {
  /** Port on 127.0.0.1. @default 0 (a free port) */
  readonly port?: number;
}

export interface DevUi {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  readonly collector: Collector;
  /** Takes one invocation report of a trigger emulator. */
  record(report: InvocationReport): void;
  close(): Promise<void>;
}

/** Starts the `weir dev --ui` page: the collector, and the server that pushes its snapshots. */
export async function startDevUi(p: Pipeline, plan: PipelinePlan, options: DevUiOptions): Promise<DevUi> {
  const svg = await planToSvg(p, plan, { stageNotes: () => STAGE_NOTE_PLACEHOLDERS });
  const collector = new Collector(p, plan, options);
  const server = await serveUi(collector, renderPage(plan.pipeline, svg), options.port ?? 0);
  try {
    await collector.start();
  } catch (err) {
    await server.close();
    await collector.stop().catch(() => undefined);
    throw err;
  }
  return {
    url: server.url,
    collector,
    record: (r) => collector.record(r),
    close: async () => {
      await server.close();
      await collector.stop();
    },
  };
}
