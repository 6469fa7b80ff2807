/**
 * The highest version seen of each aggregate, for as many aggregates as `limit` (the one seen
 * longest ago is forgotten first). Events are immutable and gapless: a version seen stays true,
 * so what this remembers is a lower bound of the aggregate's version, never wrong.
 */
export class LatestVersions {
  private readonly versions = new Map<string, number>();

  constructor(private readonly limit = 10_000) {}

  /** The highest version seen, 0 when none (or forgotten). */
  get(aggregateId: string): number {
    return this.versions.get(aggregateId) ?? 0;
  }

  saw(aggregateId: string, version: number): void {
    const known = this.versions.get(aggregateId) ?? 0;
    // Re-inserting moves the aggregate to the end: the most recently seen is forgotten last.
    this.versions.delete(aggregateId);
    this.versions.set(aggregateId, Math.max(known, version));
    if (this.versions.size > this.limit) {
      this.versions.delete(this.versions.keys().next().value!);
    }
  }
}
