/**
 * A min-heap of (time, key) with lazy deletion: a key's entry is pushed whenever its
 * earliest timer changes, and an entry whose time is no longer the key's earliest is
 * dropped when it surfaces. Ties break by key, so firing order is the same in every
 * environment, whatever order the state was restored in.
 */
export class TimerQueue {
  private heap: Array<[number, string]> = [];

  get size(): number {
    return this.heap.length;
  }

  push(time: number, key: string): void {
    const h = this.heap;
    h.push([time, key]);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(h[i] as [number, string], h[parent] as [number, string])) break;
      swap(h, i, parent);
      i = parent;
    }
  }

  peek(): readonly [number, string] | undefined {
    return this.heap[0];
  }

  pop(): [number, string] | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (top === undefined || last === undefined) return undefined;
    if (h.length === 0) return top;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && less(h[l] as [number, string], h[m] as [number, string])) m = l;
      if (r < h.length && less(h[r] as [number, string], h[m] as [number, string])) m = r;
      if (m === i) break;
      swap(h, i, m);
      i = m;
    }
    return top;
  }

  /** Rebuilds from the live entries only, when stale ones outnumber them. */
  compact(liveCount: number, live: () => Iterable<[string, number]>): void {
    if (this.heap.length <= 2 * liveCount + 1024) return;
    this.heap = [];
    for (const [key, time] of live()) this.push(time, key);
  }
}

function less(a: readonly [number, string], b: readonly [number, string]): boolean {
  return a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
}

function swap<T>(xs: T[], i: number, j: number): void {
  const t = xs[i] as T;
  xs[i] = xs[j] as T;
  xs[j] = t;
}
