/** Rough per-entry cost besides the key text: the Map slot and the small verdict object. */
const ENTRY_OVERHEAD = 96;

/**
 * Least-recently-used map bounded both in entries and in bytes (key text as
 * UTF-16, as V8 may hold it, plus a fixed overhead), so a few huge prompts cannot
 * grow it past its budget. A Map keeps insertion order: re-inserting on a hit
 * makes the first key the least recently used.
 */
export class LruCache<V> {
  private readonly map = new Map<string, V>();
  private used = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get bytes(): number {
    return this.used;
  }

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, v);
    return v;
  }

  set(key: string, value: V): void {
    const cost = LruCache.cost(key);
    if (this.maxEntries === 0 || cost > this.maxBytes) return;
    if (this.map.delete(key)) this.used -= cost;
    this.map.set(key, value);
    this.used += cost;
    while (this.map.size > this.maxEntries || this.used > this.maxBytes) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
      this.used -= LruCache.cost(oldest);
    }
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }

  private static cost(key: string): number {
    return key.length * 2 + ENTRY_OVERHEAD;
  }
}
