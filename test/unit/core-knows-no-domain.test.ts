/**
 * `lambdas/core` is the framework: it names no domain (issue 11, item 1). Every source file's
 * code (comments left out) is read token by token: no import of a domain folder, and no
 * identifier or string that names the order domain (`order`, `orders`, `Order...`, `order/...`,
 * `order#...`). The order row, its indexes, topics and message type are declared in
 * lambdas/domain/order and named by lambdas/handlers/deployment.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ts from 'typescript';

const coreDir = join(__dirname, '../../lambdas/core');
const files = readdirSync(coreDir).filter((f) => f.endsWith('.ts'));

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
 * The one domain-level module core may read: the registry of every domain's event schemas (the
 * event codec's input, like deployment.ts for projections); it names no domain in core.
 */
const EVENT_SCHEMA_REGISTRY = '../domain/event-schemas';

/** `order` as a word or a camelCase part: `orderTopic`, `ORDER_VIEW`, `'order/changed'`. */
const NAMES_ORDERS = /(^|[^a-z])order(s)?([^a-z]|$)|Order|ORDER/;

test('lambdas/core has source files to check', () => {
  expect(files.length).toBeGreaterThan(10);
});

test.each(files)('lambdas/core/%s names no domain', (file) => {
  const text = readFileSync(join(coreDir, file), 'utf8');
  const tokens = codeTokens(text);
  const domainImports = tokens.filter((t) => /domain\//.test(t) && t !== EVENT_SCHEMA_REGISTRY);
  expect({ file, domainImports }).toEqual({
    file,
    domainImports: [],
  });
  expect({ file, orderNames: tokens.filter((t) => NAMES_ORDERS.test(t)) }).toEqual({
    file,
    orderNames: [],
  });
});

test('the check would catch what core held before (a topic and a message type)', () => {
  const before =
    "export const CHANGED_TYPE = 'order/changed'; // the order's\n" +
    'export const orderTopic = (id: string) => `order#${id}`;';
  expect(codeTokens(before).filter((t) => NAMES_ORDERS.test(t))).toEqual([
    'order/changed',
    'orderTopic',
    'order#',
  ]);
});
