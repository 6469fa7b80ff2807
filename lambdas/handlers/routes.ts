/**
 * The route table: the one list of HTTP routes, read by the CDK HTTP APIs (lib/constructs)
 * and by the local gateway (local/), and used by the handlers to dispatch on `routeKey`.
 */
export type HttpMethod = 'GET' | 'POST';

/** Which function serves a route in the decoupled stack (the coupled stack has one function). */
export type DecoupledFunction = 'command' | 'query';

export interface RouteDefinition {
  readonly method: HttpMethod;
  /** API Gateway syntax: `{name}` is a path parameter. */
  readonly path: string;
  readonly decoupled: DecoupledFunction;
  readonly summary: string;
}

export const ROUTES = [
  { method: 'POST', path: '/commands', decoupled: 'command', summary: 'Send a command' },
  {
    method: 'GET',
    path: '/read-models/{name}/{key}',
    decoupled: 'query',
    summary: 'One row of a declared read model (PROJECTIONS in lambdas/handlers/deployment.ts)',
  },
  {
    method: 'GET',
    path: '/processes/{name}/{key}',
    decoupled: 'query',
    summary:
      'One process of a process manager: its state and journal (PROCESS_MANAGERS in lambdas/handlers/deployment.ts)',
  },
  // Every collection of the deployment (COLLECTIONS in deployment.ts), e.g. `orders`. API
  // Gateway prefers the static routes above to these (so does matchRoute).
  {
    method: 'GET',
    path: '/{collection}',
    decoupled: 'query',
    summary: "A page of one of a collection's declared lists (`?<param>=<value>`)",
  },
  {
    method: 'GET',
    path: '/{collection}/{id}',
    decoupled: 'query',
    summary: "One aggregate of a collection (its declared view's row)",
  },
  {
    method: 'GET',
    path: '/{collection}/{id}/events',
    decoupled: 'query',
    summary: "An aggregate's events (any collection)",
  },
  {
    method: 'GET',
    path: '/{collection}/{id}/history',
    decoupled: 'query',
    summary: 'An aggregate of a collection at a version or time',
  },
] as const satisfies readonly RouteDefinition[];

export type Route = (typeof ROUTES)[number];
type KeyOf<R> = R extends { method: infer M extends string; path: infer P extends string }
  ? `${M} ${P}`
  : never;
/** `METHOD /path`, as API Gateway names a route (`event.routeKey`). */
export type RouteKey = KeyOf<Route>;

export const routeKey = (route: Pick<RouteDefinition, 'method' | 'path'>) =>
  `${route.method} ${route.path}` as RouteKey;

/**
 * The static first segments of the route table (`commands`, `read-models`): no
 * collection may be named so (API Gateway would route its ids to the static routes).
 */
export const RESERVED_SEGMENTS: readonly string[] = [
  ...new Set(ROUTES.map((route) => route.path.split('/')[1]!).filter((s) => !s.startsWith('{'))),
];

export interface RouteMatch {
  readonly route: Route;
  readonly pathParameters: Record<string, string>;
}

/**
 * The path's segments, empty ones kept: API Gateway matches `/orders/` and `//orders` to no
 * route (a trailing slash is not ignored), so neither may match `/orders` here.
 */
const segments = (path: string) => path.split('/').slice(1);

/**
 * Whether pattern `a` is more specific than `b` (same length): at the first segment where one is
 * static and the other a parameter, the static one wins, as API Gateway prefers `/orders/{id}` to
 * `/{collection}/{id}` whatever the order of the route table.
 */
const moreSpecific = (a: readonly string[], b: readonly string[]) => {
  for (let i = 0; i < a.length; i++) {
    const [aParam, bParam] = [a[i]!.startsWith('{'), b[i]!.startsWith('{')];
    if (aParam !== bParam) return bParam;
  }
  return false;
};

/**
 * Matches a request as API Gateway does: by path first (`undefined` when no route has this path,
 * which API Gateway answers 404), then by method (`methodAllowed: false` when the path exists).
 * Of several routes for the path and method, the most specific (static segments beat
 * parameters, leftmost first). A path parameter is one non-empty segment; one whose
 * percent-escapes do not decode (`/orders/%E0%A4%A`) is `malformedPath` (a 400), never an
 * exception.
 */
export const matchRoute = (
  method: string,
  path: string,
  /** The table to match against (tests: any order of it must give the same match). */
  routes: readonly Route[] = ROUTES,
): { match: RouteMatch } | { methodAllowed: false } | { malformedPath: true } | undefined => {
  if (!path.startsWith('/')) return undefined;
  const requested = segments(path);
  let pathFound = false;
  let best: { match: RouteMatch; pattern: string[] } | undefined;
  for (const route of routes) {
    const pattern = segments(route.path);
    if (pattern.length !== requested.length) continue;
    const parameters: Record<string, string> = {};
    let malformed = false;
    const fits = pattern.every((part, i) => {
      const value = requested[i]!;
      const name = /^\{(.+)\}$/.exec(part)?.[1];
      if (!name) return part === value;
      if (value.length === 0) return false;
      try {
        parameters[name] = decodeURIComponent(value);
      } catch {
        malformed = true;
      }
      return true;
    });
    if (!fits) continue;
    if (malformed) return { malformedPath: true };
    pathFound = true;
    if (route.method !== method) continue;
    if (!best || moreSpecific(pattern, best.pattern)) {
      best = { match: { route, pathParameters: parameters }, pattern };
    }
  }
  if (best) return { match: best.match };
  return pathFound ? { methodAllowed: false } : undefined;
};
