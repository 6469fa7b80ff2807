/**
 * The route table's matcher (lambdas/handlers/routes.ts), used by the local gateway: API Gateway
 * prefers static segments to path parameters, so `/read-models/{name}/{key}` wins over
 * `/{collection}/{id}/...` whatever the order of ROUTES. Every aggregate, the order too, is a
 * collection: its routes are the parameterised ones.
 */
import { matchRoute, type Route, ROUTES, routeKey } from '../../lambdas/handlers/routes';

const tables: [string, readonly Route[]][] = [
  ['as listed', ROUTES],
  ['reversed', [...ROUTES].reverse()],
];

const keyOf = (method: string, path: string, routes: readonly Route[] = ROUTES) => {
  const found = matchRoute(method, path, routes);
  return found && 'match' in found
    ? { route: routeKey(found.match.route), parameters: found.match.pathParameters }
    : found;
};

test.each([
  ['/orders', 'GET /{collection}', { collection: 'orders' }],
  ['/orders/o-1', 'GET /{collection}/{id}', { collection: 'orders', id: 'o-1' }],
  ['/orders/o-1/events', 'GET /{collection}/{id}/events', { collection: 'orders', id: 'o-1' }],
  ['/orders/o-1/history', 'GET /{collection}/{id}/history', { collection: 'orders', id: 'o-1' }],
  ['/shopping-lists/l-1', 'GET /{collection}/{id}', { collection: 'shopping-lists', id: 'l-1' }],
  [
    '/shopping-lists/l-1/events',
    'GET /{collection}/{id}/events',
    { collection: 'shopping-lists', id: 'l-1' },
  ],
  [
    '/shopping-lists/l-1/history',
    'GET /{collection}/{id}/history',
    { collection: 'shopping-lists', id: 'l-1' },
  ],
  [
    '/read-models/customer-summary/c-1',
    'GET /read-models/{name}/{key}',
    { name: 'customer-summary', key: 'c-1' },
  ],
  // Also `/{collection}/{id}/events`: the static first segment wins.
  ['/read-models/x/events', 'GET /read-models/{name}/{key}', { name: 'x', key: 'events' }],
])('GET %s is %s: static segments beat parameters', (path, route, parameters) => {
  for (const [order, routes] of tables) {
    expect({ order, ...keyOf('GET', path, routes) }).toMatchObject({ order, route, parameters });
  }
});

test('a parameterised route still answers what no static route has', () => {
  // `/read-models/x` has two segments: not the read-model route, so the collection route.
  expect(keyOf('GET', '/read-models/x')).toMatchObject({ route: 'GET /{collection}/{id}' });
  expect(keyOf('GET', '/commands/x')).toMatchObject({ route: 'GET /{collection}/{id}' });
});

test('the method is matched after the path: POST on a GET-only path is not allowed', () => {
  expect(matchRoute('POST', '/orders/o-1')).toEqual({ methodAllowed: false });
  expect(matchRoute('POST', '/shopping-lists/l-1')).toEqual({ methodAllowed: false });
  expect(matchRoute('GET', '/shopping-lists/l-1/other')).toBeUndefined();
  expect(matchRoute('GET', '/shopping-lists/')).toBeUndefined();
});
