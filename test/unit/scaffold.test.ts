/**
 * The pure half of `npm run new -- aggregate <name>` (scripts/scaffold.ts): arguments, names,
 * validation, the generated texts and the edit of deployment.ts, on strings. The whole command
 * run in a copy of the project: test/integration/scaffold.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier/standalone';
import * as estree from 'prettier/plugins/estree';
import * as typescript from 'prettier/plugins/typescript';
import {
  type ExistingNames,
  namesOf,
  parseNewArgs,
  registerInDeployment,
  ScaffoldError,
  scaffoldFiles,
  validateName,
} from '../../scripts/scaffold';

const ROOT = join(__dirname, '../..');
/** The project's Prettier settings; the standalone build (full Prettier needs ESM in Jest). */
const PRETTIER = {
  ...(JSON.parse(readFileSync(join(ROOT, '.prettierrc.json'), 'utf8')) as Record<string, unknown>),
  parser: 'typescript',
  plugins: [estree, typescript],
};
const isFormatted = (text: string) => prettier.check(text, PRETTIER);
const deployment = readFileSync(join(ROOT, 'lambdas/handlers/deployment.ts'), 'utf8');
const existing: ExistingNames = {
  folders: ['order', 'shopping-list'],
  aggregateTypes: ['order', 'shoppingList'],
  readModels: ['orders', 'customer-summary', 'shopping-list', 'owner-lists'],
};

describe('parseNewArgs', () => {
  test('aggregate <name>', () =>
    expect(parseNewArgs(['aggregate', 'gift-card'])).toEqual({
      kind: 'aggregate',
      name: 'gift-card',
    }));
  test('--help', () => expect(parseNewArgs(['--help'])).toEqual({ kind: 'help' }));
  test.each([[[]], [['invoice']], [['aggregate']], [['aggregate', 'a', 'b']]])(
    '%p: a usage error',
    (argv) => {
      let thrown: unknown;
      try {
        parseNewArgs(argv);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ScaffoldError);
      expect(thrown).toMatchObject({ showUsage: true });
    },
  );
  test('an unknown subcommand is named', () =>
    expect(() => parseNewArgs(['model', 'x'])).toThrow('unknown subcommand "model"'));
});

describe('names', () => {
  test.each([
    ['invoice', 'invoice', 'Invoice', 'INVOICE', 'invoice'],
    ['gift-card', 'giftCard', 'GiftCard', 'GIFT_CARD', 'gift card'],
    ['a2-b3-c', 'a2B3C', 'A2B3C', 'A2_B3_C', 'a2 b3 c'],
  ])('%s', (kebab, camel, pascal, constant, words) =>
    expect(namesOf(kebab)).toEqual({ kebab, camel, pascal, constant, words }),
  );

  test.each([
    ['GiftCard', 'not a valid name'],
    ['gift_card', 'not a valid name'],
    ['1card', 'not a valid name'],
    ['', 'not a valid name'],
    ['gift-', 'a - joins two words'],
    ['gift--card', 'a - joins two words'],
    ['x'.repeat(41), 'too long'],
    ['core', 'reserved'],
    ['read-models', 'reserved'],
    ['order', 'lambdas/domain/order/ already exists'],
    ['shopping-list', 'lambdas/domain/shopping-list/ already exists'],
    ['owner-lists', 'a read model is already named "owner-lists"'],
    ['orders', 'reserved'],
  ])('%p is refused: %s', (name, message) =>
    expect(() => validateName(name, existing)).toThrow(message),
  );

  test('a type that exists under another folder name is refused', () =>
    expect(() =>
      validateName('a1', { ...existing, aggregateTypes: [...existing.aggregateTypes, 'a1'] }),
    ).toThrow('the aggregate type "a1" already exists'));

  test('a good name gives its spellings', () =>
    expect(validateName('gift-card', existing)).toEqual(namesOf('gift-card')));
});

describe('scaffoldFiles', () => {
  const files = scaffoldFiles(namesOf('gift-card'));

  test('the domain folder and its test', () =>
    expect([...files.keys()]).toEqual([
      'lambdas/domain/gift-card/commands.ts',
      'lambdas/domain/gift-card/events.ts',
      'lambdas/domain/gift-card/reducer.ts',
      'lambdas/domain/gift-card/decide.ts',
      'lambdas/domain/gift-card/permissions.ts',
      'lambdas/domain/gift-card/index.ts',
      'lambdas/domain/gift-card/projections.ts',
      'lambdas/domain/gift-card/examples.ts',
      'test/unit/gift-card-decide.test.ts',
    ]));

  test('commands and events in the aggregate namespace, the read model named in kebab-case', () => {
    const all = [...files.values()].join('\n');
    const types = [...all.matchAll(/'(\w+)\/(\w+)'/g)].map((m) => m[1]);
    expect(new Set(types)).toEqual(new Set(['giftCard']));
    expect(files.get('lambdas/domain/gift-card/index.ts')).toContain("type: 'giftCard',");
    expect(files.get('lambdas/domain/gift-card/projections.ts')).toContain("name: 'gift-card',");
  });

  test('its comments read as English: "an invoice", "a gift card"', () => {
    const invoice = [...scaffoldFiles(namesOf('invoice')).values()].join('\n');
    expect(invoice).toContain('An invoice event as reducers see it');
    expect(invoice).toContain('Pure decisions: an invoice command');
    expect(invoice).not.toMatch(/\b[Aa] invoice\b/);
    expect([...files.values()].join('\n')).toContain('A gift card event as reducers see it');
  });

  test.each([...files])('%s is already formatted as Prettier would', async (_file, text) => {
    expect(await isFormatted(text)).toBe(true);
  });
});

describe('registerInDeployment', () => {
  // A name no project scaffolds: this test also runs in projects that have a scaffold-probe.
  const names = namesOf('scaffold-probe');
  const edited = registerInDeployment(deployment, names);

  test('imports the aggregate and its projection after the last domain import', () => {
    expect(edited).toContain(
      "import { inventoryRowProjection } from '../domain/inventory/projections';\n" +
        "import { scaffoldProbeAggregate, type ScaffoldProbeView } from '../domain/scaffold-probe';\n" +
        "import { scaffoldProbeRowProjection } from '../domain/scaffold-probe/projections';\n",
    );
  });

  const collection = [
    '  {',
    "    collection: 'scaffold-probes',",
    '    aggregate: scaffoldProbeAggregate,',
    '    view: scaffoldProbeRowProjection,',
    "    isDeleted: (row: ScaffoldProbeView) => row.status === 'deleted',",
    '  },',
    '',
  ].join('\n');

  test('one entry in AGGREGATES, PROJECTIONS and COLLECTIONS, nothing else changed', async () => {
    expect(edited).toMatch(
      /export const AGGREGATES = \[\n[^\]]*\n {2}scaffoldProbeAggregate,\n\];/,
    );
    expect(edited).toMatch(/inventoryRowProjection,\n {2}scaffoldProbeRowProjection,\n\];/);
    expect(edited).toContain(`${collection}];`);
    const removed = (text: string) =>
      text
        .replace(/^import \{ scaffoldProbe[\w, ]+ \} from '[^']+';\n/gm, '')
        .replace('  scaffoldProbeAggregate,\n', '')
        .replace('  scaffoldProbeRowProjection,\n', '')
        .replace(collection, '');
    // AGGREGATES grew past 100 columns, so it is one entry per line: Prettier joins it again.
    expect(await prettier.format(removed(edited), PRETTIER)).toBe(deployment);
  });

  test('the result is formatted as Prettier would', async () => {
    expect(await isFormatted(edited)).toBe(true);
  });

  test('a second aggregate after it', () => {
    const twice = registerInDeployment(edited, namesOf('invoice'));
    expect(twice).toContain(
      "import { scaffoldProbeRowProjection } from '../domain/scaffold-probe/projections';\n" +
        "import { invoiceAggregate, type InvoiceView } from '../domain/invoice';\n",
    );
    expect(twice).toContain('  scaffoldProbeAggregate,\n  invoiceAggregate,\n];');
    expect(twice).toContain('  scaffoldProbeRowProjection,\n  invoiceRowProjection,\n];');
  });

  test('arrays written otherwise: one per line, empty, single line in PROJECTIONS', () => {
    const source = [
      "import { a } from '../domain/a';",
      '',
      'export const AGGREGATES = [',
      '  aAggregate, // the first',
      '];',
      'export const PROJECTIONS: readonly AnyRowProjection[] = [];',
      'export const COLLECTIONS = [',
      '];',
      '',
    ].join('\n');
    expect(registerInDeployment(source, names)).toBe(
      [
        "import { a } from '../domain/a';",
        "import { scaffoldProbeAggregate, type ScaffoldProbeView } from '../domain/scaffold-probe';",
        "import { scaffoldProbeRowProjection } from '../domain/scaffold-probe/projections';",
        '',
        'export const AGGREGATES = [',
        '  aAggregate, // the first',
        '  scaffoldProbeAggregate,',
        '];',
        'export const PROJECTIONS: readonly AnyRowProjection[] = [scaffoldProbeRowProjection];',
        'export const COLLECTIONS = [',
        collection + '];',
        '',
      ].join('\n'),
    );
  });

  test.each([
    [
      'no AGGREGATES',
      deployment.replace('export const AGGREGATES', 'export const AGGS'),
      'AGGREGATES',
    ],
    [
      'no PROJECTIONS array',
      deployment.replace(/export const PROJECTIONS[^;]*;/, 'export { PROJECTIONS } from "./x";'),
      'PROJECTIONS',
    ],
    ['no import', deployment.replace(/^import[^;]*;$/gm, ''), 'no import statement'],
  ])('%s: a clear error', (_, source, what) => {
    expect(() => registerInDeployment(source, names)).toThrow(ScaffoldError);
    expect(() => registerInDeployment(source, names)).toThrow(what);
    expect(() => registerInDeployment(source, names)).toThrow('Add the aggregate by hand');
  });

  test('an aggregate already registered is refused', () =>
    expect(() => registerInDeployment(edited, names)).toThrow('already imports'));
});
