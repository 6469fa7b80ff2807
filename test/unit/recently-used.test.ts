import { RecentlyUsed } from '../../lambdas/core/shared/recently-used';

test('given a full cache, when one more entry is set, then the one used longest ago is dropped', () => {
  const cache = new RecentlyUsed<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  cache.get('a'); // used now: b is the oldest
  cache.set('c', 3);
  expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
  expect(cache.size).toBe(2);
});

test('given an entry only peeked at, when the cache overflows, then it is dropped first', () => {
  const cache = new RecentlyUsed<string, number>(2);
  cache.set('a', 1);
  cache.set('b', 2);
  expect(cache.peek('a')).toBe(1);
  cache.set('c', 3);
  expect(cache.has('a')).toBe(false);
});

test('given a limit of 0, when an entry is set, then nothing is kept', () => {
  const cache = new RecentlyUsed<string, number>(0);
  cache.set('a', 1);
  expect(cache.get('a')).toBeUndefined();
  expect(cache.size).toBe(0);
});

test('given a stored undefined, when it is read, then it is there (has) and moved last', () => {
  const cache = new RecentlyUsed<string, undefined | number>(2);
  cache.set('a', undefined);
  cache.set('b', 2);
  expect(cache.get('a')).toBeUndefined();
  cache.set('c', 3);
  expect([cache.has('a'), cache.has('b')]).toEqual([true, false]);
});

test('a negative or fractional limit is refused', () => {
  expect(() => new RecentlyUsed(-1)).toThrow(/integer >= 0/);
  expect(() => new RecentlyUsed(1.5)).toThrow(/integer >= 0/);
});
