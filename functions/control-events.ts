/**
 * Events a stage function takes besides MSK batches: the ticker's, the end of a bounded
 * source, and `init` (builds the clients of a fresh container and returns; for warm-up and
 * for measuring a cold start without sending a batch).
 */
export type ControlEvent = { readonly weir: 'tick' } | { readonly weir: 'finish'; readonly topic: string; readonly partition: number } | { readonly weir: 'init' };

export function isControlEvent(e: unknown): e is ControlEvent {
  return typeof e === 'object' && e !== null && 'weir' in e;
}
