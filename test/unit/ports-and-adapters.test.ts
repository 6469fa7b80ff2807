/**
 * Ports never import adapters: in lambdas/core, only the AWS adapters (`dynamodb-*.ts`,
 * `eventbridge-*.ts`, beside the port each implements) import another adapter or the AWS SDK at
 * run time; a port
 * may name an SDK type (`import type`), never call it. Before: the rebuild sent its own Scan
 * and decoded raw items with the event store adapter's function.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
const core = join(root, 'lambdas', 'core');

const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });

const isAdapter = (path: string) => /\/(dynamodb|eventbridge)-[a-z-]+\.ts$/.test(path);

/** Run-time imports (not `import type`) of an adapter or of the AWS SDK. */
const adapterImportsOf = (source: string): string[] =>
  [...source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)';/gms)]
    .map((m) => m[1]!)
    .filter(
      (from) => from.startsWith('@aws-sdk/') || /(^|\/)(dynamodb|eventbridge)-[a-z-]+$/.test(from),
    );

const ports = walk(core).filter((path) => !isAdapter(path));

test('there are ports to check', () => {
  expect(ports.length).toBeGreaterThan(20);
});

test.each(ports.map((path) => [relative(root, path)]))(
  '%s imports no adapter and no AWS SDK at run time',
  (path) => {
    expect({ path, imports: adapterImportsOf(readFileSync(join(root, path), 'utf8')) }).toEqual({
      path,
      imports: [],
    });
  },
);

test('the check bites: what the rebuild imported before', () => {
  const before = [
    "import { type AttributeValue, type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';",
    "import { decodeEventItem } from '../events/dynamodb-event-store';",
    "import type { EventScan } from '../events/event-store';",
    "import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';",
  ].join('\n');
  expect(adapterImportsOf(before)).toEqual([
    '@aws-sdk/client-dynamodb',
    '../events/dynamodb-event-store',
  ]);
});
