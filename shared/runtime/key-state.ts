import type { StoredKey } from './ports';
import { fromJson, toJson } from './progress';

/**
 * One key's item: every keyed operator's state and the fence (lane -> highest origin
 * applied), written together so a record is applied to a key exactly once.
 */
export interface KeyState {
  readonly key: string;
  /** Version read from the store; 0 when the key is new. */
  readonly version: number;
  fence: Record<string, [number, number]>;
  ops: Record<string, unknown>;
}

export function loadKey(key: string, stored: StoredKey | undefined): KeyState {
  if (!stored) return { key, version: 0, fence: {}, ops: {} };
  const data = fromJson<{ fence?: KeyState['fence']; ops?: KeyState['ops'] }>(stored.data);
  return { key, version: stored.version, fence: data.fence ?? {}, ops: data.ops ?? {} };
}

export function serializeKey(k: KeyState): string {
  return toJson({ fence: k.fence, ops: k.ops });
}
