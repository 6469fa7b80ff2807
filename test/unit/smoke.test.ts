import { canonicalJson } from '../../lambdas/core/canonical-json';

test('canonical JSON sorts keys at every depth', () => {
  expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 0 }] } })).toBe(
    '{"a":{"c":[3,{"e":0,"f":1}],"d":2},"b":1}',
  );
});
