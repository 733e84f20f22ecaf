/** Events a stage function takes besides MSK batches: the ticker's, and the end of a bounded source. */
export type ControlEvent = { readonly weir: 'tick' } | { readonly weir: 'finish'; readonly topic: string; readonly partition: number };

export function isControlEvent(e: unknown): e is ControlEvent {
  return typeof e === 'object' && e !== null && 'weir' in e;
}
