/**
 * A Map of at most `limit` entries, kept in least-recently-used order (a Map's insertion order):
 * `get` and `set` move an entry last, and past the limit the entry used longest ago is dropped.
 * A limit of 0 keeps nothing. The per-process caches (the event store's and the runner's
 * versions, the runner's heads, the projector's source states, a rebuild's rows) are all one.
 */
export class RecentlyUsed<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(readonly limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw new Error(`A cache's limit must be an integer >= 0: ${limit}`);
    }
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  /** The entry, moved last (used now). */
  get(key: K): V | undefined {
    if (!this.entries.has(key)) return undefined;
    const value = this.entries.get(key) as V;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** The entry without using it: its place in the order stays. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    if (this.limit === 0) return;
    this.entries.set(key, value);
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
