/**
 * The docs document what the code does: every route (README), error code and rule
 * (docs/reference/api.md), npm start flag (docs/reference/flags.md), and the file npm start
 * writes. docs/operations/deploying.md is checked against the CDK app in
 * test/infra/deploying-docs.test.ts; references and links in test/unit/doc-references.test.ts,
 * code blocks in test/unit/doc-code-blocks.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOGUE } from '../../lambdas/core/shared/errors';
import { ORDER_RULES } from '../../lambdas/domain/order';
import {
  SHOPPING_LIST_RULES,
  shoppingListCommandSchemas,
} from '../../lambdas/domain/shopping-list';
import { ROUTES } from '../../lambdas/handlers/routes';
import { USAGE } from '../../local/tools/cli';
import { LOCAL_RUNTIME_FILE } from '../../local/emulators/runtime-file';

const readme = readFileSync(join(__dirname, '../../README.md'), 'utf8');
const apiDoc = readFileSync(join(__dirname, '../../docs/reference/api.md'), 'utf8');
const flagsDoc = readFileSync(join(__dirname, '../../docs/reference/flags.md'), 'utf8');
const shoppingListDoc = readFileSync(
  join(__dirname, '../../docs/reference/shopping-list.md'),
  'utf8',
);

test.each(Object.entries(ERROR_CATALOGUE))(
  'the catalogue of docs/reference/api.md lists %s with its status',
  (code, { status }) => {
    expect(apiDoc).toMatch(new RegExp(`\\|\\s*${status}\\s*\\|\\s*\`${code}\`\\s*\\|`));
  },
);

test.each(Object.keys(ORDER_RULES))('docs/reference/api.md lists the rule %s', (rule) => {
  expect(apiDoc).toMatch(new RegExp(`\\|\\s*\`${rule}\`\\s*\\|`));
});

test.each(Object.keys(SHOPPING_LIST_RULES))(
  'docs/reference/shopping-list.md lists the rule %s',
  (rule) => {
    expect(shoppingListDoc).toContain(`\`${rule}\``);
  },
);

test.each(Object.keys(shoppingListCommandSchemas))(
  'docs/reference/shopping-list.md documents the command %s',
  (type) => {
    expect(shoppingListDoc).toMatch(new RegExp(`\\|\\s*\`${type}\`\\s*\\|`));
  },
);

test.each(ROUTES.map((r) => [`${r.method} ${r.path}`]))('the README documents %s', (route) => {
  expect(readme).toContain(`\`${route}`);
});

const cliFlags = [...new Set(USAGE.match(/--[a-z][a-z-]+/g) ?? [])].filter((f) => f !== '--help');
test.each(cliFlags)('docs/reference/flags.md documents the npm start flag %s', (flag) => {
  expect(flagsDoc).toMatch(new RegExp(`\\|\\s*\`${flag}[ =<\`]`));
});

/** Every `.local-data/*.json` file the README and the guides name is the one npm start writes. */
const docs = [
  ['README.md', readme],
  ...readdirSync(join(__dirname, '../../docs'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.md'))
    .map((file) => [`docs/${file}`, readFileSync(join(__dirname, '../../docs', file), 'utf8')]),
];

test.each(docs)(
  '%s names the local runtime file as local/emulators/runtime-file.ts does',
  (_, text) => {
    const named = [...new Set(text!.match(/\.local-data\/[\w.-]+\.json(?!l)/g) ?? [])];
    for (const file of named) expect(file).toBe(LOCAL_RUNTIME_FILE);
  },
);

test('the README shows how to scaffold an aggregate with the script package.json declares', () => {
  const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  expect(pkg.scripts.new).toContain('scripts/new.ts');
  expect(readme).toContain('npm run new -- aggregate ');
  expect(readme).toContain('(docs/guide/add-an-aggregate.md)');
  const guide = readFileSync(join(__dirname, '../../docs/guide/add-an-aggregate.md'), 'utf8');
  expect(guide).toContain('# Add your own aggregate');
  expect(guide).toContain('npm run new -- aggregate gift-card');
});
