import { RecentlyUsed } from './recently-used';

/**
 * The highest version seen of each aggregate, for as many aggregates as `limit` (the one seen
 * longest ago is forgotten first). Events are immutable and gapless: a version seen stays true,
 * so what this remembers is a lower bound of the aggregate's version, never wrong.
 */
export class LatestVersions {
  private readonly versions: RecentlyUsed<string, number>;

  constructor(limit = 10_000) {
    this.versions = new RecentlyUsed(limit);
  }

  /** The highest version seen, 0 when none (or forgotten). */
  get(aggregateId: string): number {
    return this.versions.peek(aggregateId) ?? 0;
  }

  saw(aggregateId: string, version: number): void {
    // Setting moves the aggregate last: the most recently seen is forgotten last.
    this.versions.set(aggregateId, Math.max(this.get(aggregateId), version));
  }
}
