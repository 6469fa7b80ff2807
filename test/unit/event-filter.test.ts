/** Lambda's event filtering as the local event source mappings apply it (local/emulators/event-filter.ts). */
import { FilterPatternError, recordFilter } from '../../local/emulators/event-filter';
import { NOTIFIER_STREAM_FILTER } from '../../lambdas/core/push/push';

const record = (newImage?: Record<string, unknown>, eventName = 'MODIFY') => ({
  eventName,
  dynamodb: { Keys: { key: { S: 'k' } }, ...(newImage && { NewImage: newImage }) },
});

/** The compiled filter of patterns there are (never undefined). */
const filterOf = (patterns: Parameters<typeof recordFilter>[0]) => {
  const passes = recordFilter(patterns);
  if (!passes) throw new Error('no filter compiled');
  return passes;
};

describe('recordFilter', () => {
  test('given no pattern, when compiled, then there is no filter: every record passes unlooked at', () => {
    expect(recordFilter(undefined)).toBeUndefined();
    expect(recordFilter([])).toBeUndefined();
  });

  test("given the notifier's filter, when a row carries pushedBy, then it is discarded; without it, or a removal with no image, it passes", () => {
    const passes = filterOf([NOTIFIER_STREAM_FILTER]);
    expect(passes(record({ key: { S: 'k' }, pushedBy: { S: 'coupled' } }))).toBe(false);
    expect(passes(record({ key: { S: 'k' } }))).toBe(true);
    expect(passes(record(undefined, 'REMOVE'))).toBe(true);
  });

  test('given exists true, when the attribute is absent, then the record is discarded', () => {
    const passes = filterOf([{ dynamodb: { NewImage: { pushedBy: { S: [{ exists: true }] } } } }]);
    expect(passes(record({ pushedBy: { S: 'projector' } }))).toBe(true);
    expect(passes(record({}))).toBe(false);
  });

  test('given literals, when one of them equals the field, then it passes; none does, it is discarded', () => {
    const passes = filterOf([{ eventName: ['INSERT', 'MODIFY'] }]);
    expect(passes(record({}, 'MODIFY'))).toBe(true);
    expect(passes(record({}, 'REMOVE'))).toBe(false);
  });

  test('given two patterns, when a record matches either, then it passes (ORed); every field of one must match (ANDed)', () => {
    const passes = filterOf([
      { eventName: ['REMOVE'] },
      { eventName: ['INSERT'], dynamodb: { NewImage: { key: { S: [{ prefix: 'order@' }] } } } },
    ]);
    expect(passes(record(undefined, 'REMOVE'))).toBe(true);
    expect(passes(record({ key: { S: 'order@v1#o-1' } }, 'INSERT'))).toBe(true);
    expect(passes(record({ key: { S: 'list@v1#l-1' } }, 'INSERT'))).toBe(false);
    expect(passes(record({ key: { S: 'order@v1#o-1' } }, 'MODIFY'))).toBe(false);
  });

  test('given a field holding an array, when one element matches, then the record passes', () => {
    const passes = filterOf([{ tags: ['b'] }]);
    expect(passes({ tags: ['a', 'b'] })).toBe(true);
    expect(passes({ tags: ['a'] })).toBe(false);
  });

  test('given a matcher this emulation does not know, when compiled, then it is refused with where it is', () => {
    expect(() =>
      recordFilter([{ dynamodb: { NewImage: { n: { N: [{ numeric: ['>', 1] }] } } } }]),
    ).toThrow(FilterPatternError);
    expect(() => recordFilter([{ eventName: [{ 'anything-but': 'REMOVE' }] }])).toThrow(
      /filter 1\.eventName\[0\].*anything-but.*not emulated/,
    );
    expect(() => recordFilter([{ eventName: [] }])).toThrow(/no matcher/);
  });
});
