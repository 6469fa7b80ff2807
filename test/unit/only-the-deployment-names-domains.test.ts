/**
 * The deployment list (lambdas/handlers/deployment.ts) is the only place that names domains
 * (issue 11, item 1 for lambdas/core; issue 18, item 5 for the rest). The framework
 * (lambdas/core), the handlers, the CDK app (lib/, bin/), the local runtime (local/) and the
 * client (client/) are read token by token (comments left out): no import of a domain folder,
 * and no identifier or string that names a domain of the deployment.
 *
 * The names are taken from the deployment itself, so an aggregate the scaffold adds is covered
 * too: each aggregate's type (`order`, `shoppingList`), each declared projection and view
 * (`customer-summary`, `shopping-list`), each collection (`orders`, `shopping-lists`) and each
 * folder of lambdas/domain, in every spelling (`order/...`, `orderTopic`, `OrderView`,
 * `ORDER_VIEW`, `shopping-list`, `ShoppingListView`, a trailing `s` or not).
 *
 * What still names a domain outside the list, and why, is in ALLOWED below: the test fails on
 * any new name (in any file, or a new name in a listed file) and on a listed name that is gone
 * (so the list shrinks as the work of issue 18 lands). The demo app (web/), the benchmark
 * (bench/) and the scaffold (scripts/) are about domains by purpose and are not read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';
import { AGGREGATES, PROJECTIONS, SERVED_AGGREGATES } from '../../lambdas/handlers/deployment';

const ROOT = join(__dirname, '../..');
const DEPLOYMENT = 'lambdas/handlers/deployment.ts';
const CHECKED_DIRS = ['lambdas/core', 'lambdas/handlers', 'lib', 'local', 'client', 'bin'];

const files = CHECKED_DIRS.flatMap((dir) =>
  readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => /\.tsx?$/.test(file))
    .map((file) => `${dir}/${file}`),
).filter((file) => file !== DEPLOYMENT);

/** The names and literals of a file's code (the parser's tree: comments are not in it). */
const codeTokens = (text: string): string[] => {
  const source = ts.createSourceFile('file.ts', text, ts.ScriptTarget.Latest, true);
  const tokens: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isIdentifier(node) ||
      ts.isPrivateIdentifier(node) ||
      ts.isStringLiteralLike(node) ||
      ts.isTemplateLiteralToken(node) ||
      ts.isRegularExpressionLiteral(node)
    )
      tokens.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return tokens;
};

/**
 * The one domain-level module others may read: the registry of every domain's event schemas
 * (the event codec's input, a list like deployment.ts); importing it names no domain.
 */
const EVENT_SCHEMA_REGISTRY = /(^|\/)domain\/event-schemas$/;
const DOMAIN_IMPORT = /(^|\/)domain\//;

/** Every name a domain of the deployment goes by: types, views, projections, collections, folders. */
const DOMAIN_NAMES = [
  ...new Set([
    ...AGGREGATES.map((aggregate) => aggregate.type),
    ...PROJECTIONS.map((projection) => projection.name),
    ...SERVED_AGGREGATES.flatMap(({ collection, view }) => [collection, view.name]),
    ...readdirSync(join(ROOT, 'lambdas/domain'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name),
  ]),
];

/**
 * A name's spellings as a pattern: `shopping-lists` matches `shopping-list`, `shoppingList`,
 * `shoppingLists`, `ShoppingListView`, `SHOPPING_LIST`, but not `reorder` or `ordered`.
 */
export const spellingsOf = (name: string): RegExp => {
  const words = name
    .replace(/s$/, '')
    .split(/-|(?=[A-Z])/)
    .map((word) => word.toLowerCase());
  const capital = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
  const camel = words[0]! + words.slice(1).map(capital).join('');
  const kebab = words.join('-');
  const pascal = words.map(capital).join('');
  const constant = words.map((word) => word.toUpperCase()).join('_');
  return new RegExp(
    [
      `(^|[^a-z])(${camel}|${kebab})s?([^a-z]|$)`,
      `${pascal}s?([^a-z]|$)`,
      `(^|[^A-Z])${constant}S?([^A-Z]|$)`,
    ].join('|'),
  );
};

const PATTERNS = DOMAIN_NAMES.map(spellingsOf);

/** The distinct tokens of a file that import a domain folder or name a domain. */
const domainNamesIn = (text: string): string[] => [
  ...new Set(
    codeTokens(text).filter(
      (token) =>
        (DOMAIN_IMPORT.test(token) && !EVENT_SCHEMA_REGISTRY.test(token)) ||
        PATTERNS.some((pattern) => pattern.test(token)),
    ),
  ),
];

/**
 * What names a domain outside the deployment list today, file by file, with the reason. Each
 * name is a distinct token of the file's code. Remove an entry when its reason is gone.
 */
const ALLOWED: Record<string, { readonly reason: string; readonly names: readonly string[] }> = {
  'local/tools/cli.ts': {
    reason:
      "`npm start`'s banner shows a first command to try and the URLs to read it: the order, " +
      'as in the README (a banner example, not logic).',
    names: [
      'order-1',
      '   (connect with ?token=<token>; live updates: {"action":"subscribe","collection":"orders","id":"..."})',
      `    -d '{"type":"order/create","aggregateId":"`,
      '/orders/',
      '/orders?customerId=alice" -H "authorization: Bearer $TOKEN"',
      ' units each, once (orders of other SKUs are rejected by the fulfilment workflow)',
    ],
  },
  'local/tools/demo-stock.ts': {
    reason:
      "`npm start` stocks the demo app's SKUs (inventory/receive) so that the fulfilment " +
      'workflow confirms the orders a newcomer submits there: demo data, not logic.',
    names: ['inventory/receive'],
  },
  'client/index.ts': {
    reason:
      'Re-exports of the domain types (OrderView, ShoppingListView, ...) for the demo app, the ' +
      "docs and a user's code, so one import serves; the client's own code reads only " +
      'DeploymentCommand and DeploymentView.',
    names: [
      'OrderCommand',
      'OrderStatus',
      'OrderView',
      '../lambdas/domain/order',
      'ShoppingListCommand',
      'ShoppingListView',
      '../lambdas/domain/shopping-list',
      'OwnerLists',
      '../lambdas/domain/shopping-list/projections',
    ],
  },
};

test('there are source files to check, and the domains are known', () => {
  expect(files.filter((file) => file.startsWith('lambdas/core/')).length).toBeGreaterThan(10);
  expect(files.length).toBeGreaterThan(60);
  expect(DOMAIN_NAMES).toEqual(
    expect.arrayContaining([
      'order',
      'orders',
      'shoppingList',
      'shopping-lists',
      'customer-summary',
    ]),
  );
});

test.each(files)('%s names no domain (beyond the allow-list)', (file) => {
  const found = domainNamesIn(readFileSync(join(ROOT, file), 'utf8'));
  const allowed = ALLOWED[file]?.names ?? [];
  expect({ file, names: found.filter((name) => !allowed.includes(name)) }).toEqual({
    file,
    names: [],
  });
});

test('lambdas/core has no exception', () => {
  expect(Object.keys(ALLOWED).filter((file) => file.startsWith('lambdas/core/'))).toEqual([]);
});

test.each(Object.entries(ALLOWED))('the allow-list of %s is current', (file, { reason, names }) => {
  expect(reason.length).toBeGreaterThan(20);
  const found = domainNamesIn(readFileSync(join(ROOT, file), 'utf8'));
  // A name that is gone leaves the list: the list only shrinks.
  expect({ file, gone: names.filter((name) => !found.includes(name)) }).toEqual({
    file,
    gone: [],
  });
});

test('the check catches what core held before, in every spelling', () => {
  const before =
    "export const CHANGED_TYPE = 'order/changed'; // the order's\n" +
    'export const orderTopic = (id: string) => `order#${id}`;\n' +
    "import { shoppingListAggregate } from '../domain/shopping-list';\n" +
    "const SHOPPING_LIST_VIEW = 'shopping-lists'; const reorder = 'ordered';";
  expect(domainNamesIn(before)).toEqual([
    'order/changed',
    'orderTopic',
    'order#',
    'shoppingListAggregate',
    '../domain/shopping-list',
    'SHOPPING_LIST_VIEW',
    'shopping-lists',
  ]);
});

test('no handler or core module imports the domain test kit: it is in no Lambda bundle', () => {
  const importers = files
    .filter((file) => file.startsWith('lambdas/') && file !== 'lambdas/core/given.ts')
    .filter((file) =>
      codeTokens(readFileSync(join(ROOT, file), 'utf8')).some((token) =>
        /(^|\/)core\/given$|^\.\/given$/.test(token),
      ),
    );
  expect(importers).toEqual([]);
});
