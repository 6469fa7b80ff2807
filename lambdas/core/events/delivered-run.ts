/**
 * What a stream consumer (the row projector, the workflows function) can fold without reading
 * the event table back: a stream record of the event table is the event item itself, and events
 * are immutable, so a batch that carries every version of a range is that range of the log.
 */
import type { StoredEvent } from './events';

/**
 * The events `after + 1 .. target` of one aggregate when `delivered` holds every one of them, in
 * version order; else undefined (read the log). A version delivered twice is the same item.
 */
export const deliveredRun = (
  delivered: readonly StoredEvent[],
  after: number,
  target: number,
): StoredEvent[] | undefined => {
  const byVersion = new Map<number, StoredEvent>();
  for (const event of delivered) {
    if (event.version > after && event.version <= target) byVersion.set(event.version, event);
  }
  if (byVersion.size !== target - after) return undefined;
  return Array.from({ length: target - after }, (_, i) => byVersion.get(after + 1 + i)!);
};
