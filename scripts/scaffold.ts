/**
 * The pure half of `npm run new -- aggregate <name>` (scripts/new.ts does the I/O): the command
 * line, the names a new aggregate gets, their validation, the files it starts with, and the edit
 * that registers it in lambdas/handlers/deployment.ts. No file system here, so each part is
 * tested on strings (test/unit/scaffold.test.ts).
 */
import { posix } from 'node:path';

export const USAGE = `Usage: npm run new -- aggregate <name>

Writes a new aggregate you can run at once:
  lambdas/domain/<name>/          commands, events, reducer, decide (one rule), permissions, index, projections
  test/unit/<name>-decide.test.ts given(events) / when(command) / then(events or error)
and registers it in lambdas/handlers/deployment.ts (AGGREGATES and PROJECTIONS).

<name> is kebab-case, e.g. invoice or gift-card: the folder and the read model are named
gift-card, the aggregate type (the prefix of its commands and events) giftCard.`;

/** Wrong input on the command line or a name that cannot be used: nothing was written. */
export class ScaffoldError extends Error {
  override readonly name = 'ScaffoldError';
  constructor(
    message: string,
    /** Print the usage text after the message. */
    readonly showUsage = false,
  ) {
    super(message);
  }
}

export type NewRequest = { readonly kind: 'help' } | { readonly kind: 'aggregate'; name: string };

/** `aggregate <name>`, `--help`; anything else is a ScaffoldError carrying the usage. */
export const parseNewArgs = (argv: readonly string[]): NewRequest => {
  const [what, name, ...rest] = argv;
  if (what === undefined) throw new ScaffoldError('missing the subcommand (aggregate)', true);
  if (what === '--help' || what === '-h' || what === 'help') return { kind: 'help' };
  if (what !== 'aggregate') {
    throw new ScaffoldError(`unknown subcommand "${what}" (known: aggregate)`, true);
  }
  if (name === undefined) throw new ScaffoldError('aggregate needs a name', true);
  if (rest.length > 0) throw new ScaffoldError(`unexpected arguments: ${rest.join(' ')}`, true);
  return { kind: 'aggregate', name };
};

/** Every spelling of one aggregate's name the generated code uses. */
export interface AggregateNames {
  /** `gift-card`: the folder, the read model's name, file names. */
  readonly kebab: string;
  /** `giftCard`: the aggregate type, the prefix of its commands and events; identifiers. */
  readonly camel: string;
  /** `GiftCard`: type names. */
  readonly pascal: string;
  /** `GIFT_CARD`: constants. */
  readonly constant: string;
  /** `gift card`: prose in comments and messages. */
  readonly words: string;
}

export const MAX_NAME_LENGTH = 40;

/** Names the scaffold refuses: framework folders, route segments and words that read badly. */
export const RESERVED_NAMES: readonly string[] = [
  'aggregate',
  'aggregates',
  'command',
  'commands',
  'core',
  'domain',
  'event',
  'events',
  'handlers',
  'history',
  'index',
  'new',
  'orders',
  'projection',
  'projections',
  'read-model',
  'read-models',
  'test',
];

/** `an` before a vowel sound as English spells it most often (`an invoice`), else `a`. */
export const article = (words: string): string => (/^[aeiou]/.test(words) ? 'an' : 'a');
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export const namesOf = (kebab: string): AggregateNames => {
  const parts = kebab.split('-');
  const capital = (part: string) => part.charAt(0).toUpperCase() + part.slice(1);
  return {
    kebab,
    camel: parts[0]! + parts.slice(1).map(capital).join(''),
    pascal: parts.map(capital).join(''),
    constant: parts.map((part) => part.toUpperCase()).join('_'),
    words: parts.join(' '),
  };
};

/** What already exists in the project: a new aggregate must not collide with any of it. */
export interface ExistingNames {
  /** Folders under lambdas/domain/. */
  readonly folders: readonly string[];
  /** Aggregate types in AGGREGATES (e.g. `order`, `shoppingList`). */
  readonly aggregateTypes: readonly string[];
  /** Names of the read models in PROJECTIONS (and the aggregate view). */
  readonly readModels: readonly string[];
}

/** The names of a new aggregate called `name`, or a ScaffoldError saying why it cannot be. */
export const validateName = (name: string, existing: ExistingNames): AggregateNames => {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) {
    throw new ScaffoldError(
      `"${name}" is not a valid name: use kebab-case, a-z, 0-9 and -, starting with a letter (e.g. gift-card)`,
    );
  }
  if (name.endsWith('-') || name.includes('--')) {
    throw new ScaffoldError(
      `"${name}" is not a valid name: a - joins two words (no leading, trailing or double -)`,
    );
  }
  if (name.length > MAX_NAME_LENGTH) {
    throw new ScaffoldError(`"${name}" is too long: at most ${MAX_NAME_LENGTH} characters`);
  }
  if (RESERVED_NAMES.includes(name)) throw new ScaffoldError(`"${name}" is a reserved name`);
  const names = namesOf(name);
  if (existing.folders.includes(name)) {
    throw new ScaffoldError(`lambdas/domain/${name}/ already exists: choose another name`);
  }
  if (existing.aggregateTypes.includes(names.camel)) {
    throw new ScaffoldError(
      `the aggregate type "${names.camel}" already exists in lambdas/handlers/deployment.ts`,
    );
  }
  if (existing.readModels.includes(name)) {
    throw new ScaffoldError(`a read model is already named "${name}"`);
  }
  return names;
};

/** Where each generated file goes, relative to the project root (POSIX separators). */
export const domainFolder = (names: AggregateNames) => posix.join('lambdas/domain', names.kebab);
export const testFile = (names: AggregateNames) =>
  posix.join('test/unit', `${names.kebab}-decide.test.ts`);
export const DEPLOYMENT_FILE = 'lambdas/handlers/deployment.ts';

// ---------------------------------------------------------------------------------------------
// The files. Each is a template literal over the names; `\${` is a template placeholder of the
// generated code itself.

const commandsTs = (n: AggregateNames) => `/**
 * ${n.pascal} commands: imperative intents, each with the runtime schema its payload must satisfy
 * (checked at the edge, before \`decide\` runs: a bad payload is a 400).
 * To add a command: its schema here, its event in events.ts, a case in decide.ts and reducer.ts.
 */
import * as z from 'zod';

export const MAX_NAME_LENGTH = 100;

/** Surrounding spaces are not part of a name: the schema trims, then measures. */
const name = z
  .string()
  .trim()
  .min(1, 'must not be blank')
  .max(MAX_NAME_LENGTH, \`must be at most \${MAX_NAME_LENGTH} characters\`);

/** Every command type starts with \`${n.camel}/\`: the aggregate's namespace. */
export const ${n.camel}CommandSchemas = {
  '${n.camel}/create': z.strictObject({ name }),
  '${n.camel}/rename': z.strictObject({ name }),
  '${n.camel}/delete': z.strictObject({}),
};

type Schemas = typeof ${n.camel}CommandSchemas;

export type ${n.pascal}Command = {
  [K in keyof Schemas]: { readonly type: K; readonly payload: z.infer<Schemas[K]> };
}[keyof Schemas];

export type ${n.pascal}CommandType = ${n.pascal}Command['type'];
`;

const eventsTs = (n: AggregateNames) => `/**
 * ${n.pascal} events: facts in past tense, in the \`${n.camel}/\` namespace (the command runner
 * refuses any other). Payloads are JSON only: strings, integers, booleans, arrays, objects.
 * Once stored, an event's shape is kept: change it with an upcaster (lambdas/domain/event-schemas.ts).
 */
import type { EventActionOf, NewEvent } from '../../core/events/events';

export interface ${n.pascal}EventPayloads {
  /** \`ownerId\`: the \`sub\` of the user who created it (decide takes it from the actor). */
  '${n.camel}/created': { name: string; ownerId: string };
  '${n.camel}/renamed': { name: string };
  '${n.camel}/deleted': Record<string, never>;
}

export type ${n.pascal}EventType = keyof ${n.pascal}EventPayloads;

export type ${n.pascal}Event = {
  [K in ${n.pascal}EventType]: NewEvent<K, ${n.pascal}EventPayloads[K]>;
}[${n.pascal}EventType];

/** ${capitalized(article(n.words))} ${n.words} event as reducers see it: FSA with \`meta\` (version, time, ids). */
export type ${n.pascal}EventAction = EventActionOf<${n.pascal}Event>;
`;

const reducerTs = (n: AggregateNames) => `/**
 * The one ${n.words} reducer: the aggregate's state (what \`decide\` checks), the read-model row
 * (the \`${n.kebab}\` projection) and a Redux client's slice.
 * Pure: time and version come from the event's meta, stamped at the edge. Add your fields to
 * ${n.pascal}View and set them here.
 */
import type { Reducer } from 'redux';
import type { ${n.pascal}EventAction } from './events';

export type ${n.pascal}Status = 'active' | 'deleted';

export interface ${n.pascal}View {
  readonly id: string;
  /** Who created it: permissions.ts lets them (and staff) read it, and them alone change it. */
  readonly ownerId: string;
  readonly name: string;
  readonly status: ${n.pascal}Status;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Version of the last event applied. */
  readonly version: number;
}

/** \`null\` until the ${n.words} is created. */
export type ${n.pascal}State = ${n.pascal}View | null;

const apply = (view: ${n.pascal}View, event: ${n.pascal}EventAction): ${n.pascal}View => {
  switch (event.type) {
    case '${n.camel}/created':
      return view;
    case '${n.camel}/renamed':
      return { ...view, name: event.payload.name };
    case '${n.camel}/deleted':
      return { ...view, status: 'deleted' };
    default: {
      // Compile time: every event type is handled. Run time: an unknown type changes nothing.
      const _unhandled: never = event;
      return view;
    }
  }
};

export const ${n.camel}Reducer: Reducer<${n.pascal}State, ${n.pascal}EventAction> = (
  state = null,
  event,
) => {
  if (event.type === '${n.camel}/created') {
    return {
      id: event.meta.aggregateId,
      ownerId: event.payload.ownerId,
      name: event.payload.name,
      status: 'active',
      createdAt: event.meta.occurredAt,
      updatedAt: event.meta.occurredAt,
      version: event.meta.version,
    };
  }
  // Events of other aggregates, or before creation, leave the state as it is (Redux convention).
  if (state === null || !event.type.startsWith('${n.camel}/')) return state;
  return { ...apply(state, event), updatedAt: event.meta.occurredAt, version: event.meta.version };
};
`;

const decideTs = (n: AggregateNames) => `/**
 * Pure decisions: ${article(n.words)} ${n.words} command and the current state give events, or a typed error.
 * No clock, no random ids, no I/O: what the edge knows comes in \`context\`.
 */
import type { DecideContext } from '../../core/command/aggregate';
import { AlreadyExistsError, NotFoundError, RuleViolation } from '../../core/shared/errors';
import type { ${n.pascal}Command } from './commands';
import type { ${n.pascal}Event } from './events';
import type { ${n.pascal}State } from './reducer';

/**
 * The rule codes a 422 answer can carry in \`details.rule\`, with their messages. Add your rules
 * here. A command before \`create\` is a 404 (NOT_FOUND), a second create a 409 (ALREADY_EXISTS).
 */
export const ${n.constant}_RULES = {
  DELETED: 'A deleted ${n.words} takes no command.',
} as const;

export type ${n.pascal}Rule = keyof typeof ${n.constant}_RULES;

const violation = (rule: ${n.pascal}Rule, details: Record<string, unknown> = {}) =>
  new RuleViolation(rule, ${n.constant}_RULES[rule], details);

export const decide${n.pascal} = (
  state: ${n.pascal}State,
  command: ${n.pascal}Command,
  context: DecideContext,
): ${n.pascal}Event[] => {
  if (command.type === '${n.camel}/create') {
    if (state !== null) {
      throw new AlreadyExistsError(\`${n.pascal} \${context.aggregateId} already exists\`, {
        aggregateId: context.aggregateId,
      });
    }
    // The signed-in user owns what they create (permissions.ts).
    return [
      { type: '${n.camel}/created', payload: { ...command.payload, ownerId: context.actor.subject } },
    ];
  }
  if (state === null) {
    throw new NotFoundError(\`${n.pascal} \${context.aggregateId} does not exist\`, {
      aggregateId: context.aggregateId,
    });
  }
  if (state.status === 'deleted') throw violation('DELETED');

  switch (command.type) {
    case '${n.camel}/rename':
      return [{ type: '${n.camel}/renamed', payload: command.payload }];
    case '${n.camel}/delete':
      return [{ type: '${n.camel}/deleted', payload: {} }];
    default: {
      const unhandled: never = command;
      throw new Error(\`Unhandled command \${(unhandled as ${n.pascal}Command).type}\`);
    }
  }
};
`;

const permissionsTs = (n: AggregateNames) => `/**
 * Who may do what with ${article(n.words)} ${n.words}: pure rules beside \`decide\`, run by the server and by the
 * client's prediction alike (docs/guide/users-and-permissions.md). Its owner reads and changes it;
 * support reads every one; an admin may do anything (the runner lets admins through).
 */
import { ownerOrStaff, type ReadRule } from '../../core/identity/authorization';
import type { Principal } from '../../core/identity/principal';
import type { ${n.pascal}Command } from './commands';
import type { ${n.pascal}State, ${n.pascal}View } from './reducer';

/** The rule codes a 403 answer can carry in \`details.rule\`, with their messages. */
export const ${n.constant}_PERMISSIONS = {
  OWNER_ONLY: 'Only the owner may change this ${n.words}.',
} as const;

export type ${n.pascal}Permission = keyof typeof ${n.constant}_PERMISSIONS;

/** Another user's ${n.words} answers 404, as if it did not exist; nobody is refused a missing one. */
const ownerOrStaffReads = ownerOrStaff<${n.pascal}View>((view) => view.ownerId);

export const canRead${n.pascal}: ReadRule<${n.pascal}State> = (principal, state) =>
  state === null || ownerOrStaffReads(principal, state);

export const authorize${n.pascal} = (
  principal: Principal,
  state: ${n.pascal}State,
  _command: ${n.pascal}Command,
): ${n.pascal}Permission | undefined =>
  state === null || state.ownerId === principal.subject || principal.roles.includes('admin')
    ? undefined
    : 'OWNER_ONLY';
`;

const indexTs = (n: AggregateNames) => `/**
 * The ${n.words} aggregate, assembled from pure parts (its read model: projections.ts). It is
 * registered in lambdas/handlers/deployment.ts (AGGREGATES), which is all it takes to serve it.
 */
import type { AggregateDefinition } from '../../core/command/aggregate';
import { type ${n.pascal}Command, ${n.camel}CommandSchemas } from './commands';
import { decide${n.pascal} } from './decide';
import type { ${n.pascal}Event } from './events';
import { authorize${n.pascal}, canRead${n.pascal}, ${n.constant}_PERMISSIONS } from './permissions';
import { ${n.camel}Reducer, type ${n.pascal}State } from './reducer';

type Definition = AggregateDefinition<${n.pascal}State, ${n.pascal}Command, ${n.pascal}Event>;

export const ${n.camel}Aggregate: Definition = {
  // Stored on every event, and the prefix of every command and event type: never change it.
  type: '${n.camel}',
  // Bump when the state's meaning changes (docs/decisions/snapshots.md).
  snapshotVersion: 1,
  initialState: null,
  reducer: ${n.camel}Reducer,
  decide: decide${n.pascal},
  canRead: canRead${n.pascal},
  authorize: authorize${n.pascal},
  permissions: ${n.constant}_PERMISSIONS,
  commandSchemas: ${n.camel}CommandSchemas,
};

export * from './commands';
export * from './decide';
export * from './events';
export * from './permissions';
export * from './reducer';
`;

const projectionsTs = (n: AggregateNames) => `/**
 * Read models of the ${n.words} domain (declared projections, see lambdas/core/projections/row-projection.ts),
 * listed in PROJECTIONS (lambdas/handlers/deployment.ts) and served by
 * \`GET /read-models/<name>/<key>\`. More: docs/guide/change-a-read-model.md.
 */
import { aggregateView } from '../../core/projections/collections';
import type { ${n.pascal}EventType } from './events';
import { ${n.camel}Aggregate } from './index';
import type { ${n.pascal}State, ${n.pascal}View } from './reducer';

/** Only these events reach the projection: list every event type of the aggregate. */
const EVENT_TYPES: readonly ${n.pascal}EventType[] = [
  '${n.camel}/created',
  '${n.camel}/renamed',
  '${n.camel}/deleted',
];

/**
 * One row per ${n.words}, keyed by its id: the view its reducer folds (so the row and the state
 * cannot disagree). A deleted ${n.words} stays, with status \`deleted\`. Changing the row's shape
 * or meaning: bump \`version\` and rebuild (docs/guide/change-a-read-model.md). Lists of them
 * (\`GET /${collectionOf(n)}?<param>=\`): \`lists\`, docs/guide/add-an-aggregate.md.
 */
export const ${n.camel}RowProjection = aggregateView<${n.pascal}State, ${n.pascal}View>({
  name: '${n.kebab}',
  version: 1,
  source: ${n.camel}Aggregate,
  eventTypes: EVENT_TYPES,
  createdBy: '${n.camel}/created',
});
`;

const decideTestTs = (n: AggregateNames) => `/**
 * The ${n.words} aggregate as given(events) / when(command) / then(events or error): no store,
 * no AWS (lambdas/core/given.ts, docs/reference/testing.md). Run it: npx jest ${testFile(n)}
 */
import { ${n.constant}_RULES, ${n.camel}Aggregate } from '../../lambdas/domain/${n.kebab}';
import { SCENARIO_ACTOR, scenario } from '../../lambdas/core/given';

const { given } = scenario(${n.camel}Aggregate, '${n.kebab}-1');
const created = {
  type: '${n.camel}/created',
  payload: { name: 'First', ownerId: SCENARIO_ACTOR.subject },
};
const alice = { subject: 'alice', roles: [] };
const bob = { subject: 'bob', roles: [] };
const createdByAlice = { type: '${n.camel}/created', payload: { name: 'First', ownerId: 'alice' } };
const renamed = { type: '${n.camel}/renamed', payload: { name: 'Second' } };
const deleted = { type: '${n.camel}/deleted', payload: {} };
const rule = (name: keyof typeof ${n.constant}_RULES) => ({
  code: 'RULE_VIOLATED',
  status: 422,
  message: ${n.constant}_RULES[name],
  details: { rule: name }, // partial: only the keys named are compared
});

describe('${n.camel}/create', () => {
  test('creates it', () => given().when('${n.camel}/create', { name: 'First' }).then(created));
  test('surrounding spaces are not part of the name', () =>
    given().when('${n.camel}/create', { name: '  First ' }).then(created));
  test('a blank name: 400', () =>
    given().when('${n.camel}/create', { name: ' ' }).thenThrows({ code: 'VALIDATION_FAILED' }));
  test('an unknown field: 400', () =>
    given()
      .when('${n.camel}/create', { name: 'First', extra: true })
      .thenThrows({ code: 'VALIDATION_FAILED' }));
  test('a second create: 409 ALREADY_EXISTS', () =>
    given(created)
      .when('${n.camel}/create', { name: 'Again' })
      .thenThrows({ code: 'ALREADY_EXISTS', status: 409 }));
});

describe('${n.camel}/rename and ${n.camel}/delete', () => {
  test('renames it', () =>
    given(created).when('${n.camel}/rename', { name: 'Second' }).then(renamed));
  test('deletes it', () => given(created, renamed).when('${n.camel}/delete').then(deleted));
  test('before create: 404 NOT_FOUND', () =>
    given()
      .when('${n.camel}/rename', { name: 'Second' })
      .thenThrows({ code: 'NOT_FOUND', status: 404 }));
  test.each([
    ['${n.camel}/rename', { name: 'Third' }],
    ['${n.camel}/delete', {}],
  ])('DELETED: %s after delete is refused', (type, payload) =>
    given(created, deleted).when(type, payload).thenThrows(rule('DELETED')),
  );
});

describe('permissions', () => {
  test('the creator owns it', () =>
    given().as(alice).when('${n.camel}/create', { name: 'First' }).then(createdByAlice));
  test('the owner renames it', () =>
    given(createdByAlice).as(alice).when('${n.camel}/rename', { name: 'Second' }).then(renamed));
  test("another user's: 404 NOT_FOUND, as if it did not exist", () =>
    given(createdByAlice)
      .as(bob)
      .when('${n.camel}/rename', { name: 'Second' })
      .thenThrows({ code: 'NOT_FOUND', status: 404 }));
  test('support reads it but may not change it: 403 OWNER_ONLY', () =>
    given(createdByAlice)
      .as({ subject: 'sam', roles: ['support'] })
      .when('${n.camel}/delete')
      .thenThrows({ code: 'FORBIDDEN', status: 403, details: { rule: 'OWNER_ONLY' } }));
});

test('the state is the fold of the events', () => {
  expect(given(created, renamed, deleted).state).toMatchObject({
    id: '${n.kebab}-1',
    name: 'Second',
    status: 'deleted',
    version: 3,
  });
});
`;

const examplesTs = (n: AggregateNames): string => `/**
 * Example histories of the ${n.words}: what tests fold every projection fed by it over
 * (test/unit/source-states-immutable.test.ts finds every domain's \`examples.ts\`). Add one
 * history per interesting path as your events grow. COMMAND_SCRIPTS are example command
 * sequences the conformance test (test/integration/aggregate-conformance.test.ts) sends on both
 * stacks, as random subsequences (the first command kept; refused ones dropped).
 */
import type { NewEvent } from '../../core/events/events';
import type { ${n.pascal}Command } from './commands';

export const EXAMPLES: { readonly aggregateType: string; readonly histories: NewEvent[][] } = {
  aggregateType: '${n.camel}',
  histories: [
    [
      { type: '${n.camel}/created', payload: { name: 'First', ownerId: 'user-1' } },
      { type: '${n.camel}/renamed', payload: { name: 'Second' } },
    ],
    [
      { type: '${n.camel}/created', payload: { name: 'Gone', ownerId: 'user-1' } },
      { type: '${n.camel}/deleted', payload: {} },
    ],
  ],
};

export const COMMAND_SCRIPTS: {
  readonly aggregateType: string;
  readonly scripts: readonly (readonly ${n.pascal}Command[])[];
} = {
  aggregateType: '${n.camel}',
  scripts: [
    [
      { type: '${n.camel}/create', payload: { name: 'First' } },
      { type: '${n.camel}/rename', payload: { name: 'Second' } },
      { type: '${n.camel}/rename', payload: { name: 'Third' } },
      { type: '${n.camel}/delete', payload: {} },
    ],
  ],
};
`;

/** The new aggregate's files, path (relative to the project root) -> text. */
export const scaffoldFiles = (names: AggregateNames): ReadonlyMap<string, string> => {
  const folder = domainFolder(names);
  return new Map([
    [posix.join(folder, 'commands.ts'), commandsTs(names)],
    [posix.join(folder, 'events.ts'), eventsTs(names)],
    [posix.join(folder, 'reducer.ts'), reducerTs(names)],
    [posix.join(folder, 'decide.ts'), decideTs(names)],
    [posix.join(folder, 'permissions.ts'), permissionsTs(names)],
    [posix.join(folder, 'index.ts'), indexTs(names)],
    [posix.join(folder, 'projections.ts'), projectionsTs(names)],
    [posix.join(folder, 'examples.ts'), examplesTs(names)],
    [testFile(names), decideTestTs(names)],
  ]);
};

// ---------------------------------------------------------------------------------------------
// Registering the aggregate in lambdas/handlers/deployment.ts.

const shapeError = (what: string) =>
  new ScaffoldError(
    `${DEPLOYMENT_FILE}: ${what}; its shape is not the one the scaffold knows. ` +
      `Add the aggregate by hand: import it, add it to AGGREGATES and its projection to PROJECTIONS.`,
  );

/** Index of the `]` closing the `[` at `open`, skipping nested brackets, strings and comments. */
const closingBracket = (source: string, open: number): number => {
  let depth = 0;
  for (let i = open; i < source.length; i += 1) {
    const c = source[i]!;
    if (c === '/' && source[i + 1] === '/') {
      const end = source.indexOf('\n', i);
      i = end === -1 ? source.length : end;
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2);
      i = end === -1 ? source.length : end + 1;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < source.length && source[j] !== c) j += source[j] === '\\' ? 2 : 1;
      i = j;
    } else if (c === '[') depth += 1;
    else if (c === ']') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
};

/** `source` with `entry` appended to the array literal assigned to `export const <name>`. */
const appendToArray = (source: string, name: string, entry: string): string => {
  const declaration = new RegExp(`^export const ${name}\\b[^=\\n]*=\\s*\\[`, 'm').exec(source);
  if (!declaration) throw shapeError(`no "export const ${name} = [...]" found`);
  const open = declaration.index + declaration[0].length - 1;
  const close = closingBracket(source, open);
  if (close === -1) throw shapeError(`the array ${name} is not closed`);
  const inside = source.slice(open + 1, close);
  const escaped = entry.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  if (new RegExp(`\\b${escaped}\\b`).test(inside)) {
    throw new ScaffoldError(`${DEPLOYMENT_FILE}: ${name} already lists ${entry}`);
  }
  const before = source.slice(0, open + 1);
  const after = source.slice(close);
  if (inside.includes('\n')) {
    // One entry per line: add a line with the indentation of the last entry.
    // The last entry gets a comma if it has none (before its line comment, if any).
    const lines = inside.replace(/\s*$/, '').split('\n');
    const [, code = '', comment = ''] = /^(.*?)([ \t]*\/\/.*)?$/.exec(lines.at(-1)!) ?? [];
    if (code.trim() !== '' && !code.trimEnd().endsWith(',')) {
      lines[lines.length - 1] = `${code.trimEnd()},${comment}`;
    }
    const body = lines.join('\n');
    const indent = /\n([ \t]*)\S[^\n]*$/.exec(body)?.[1] ?? '  ';
    const closingIndent = /\n([ \t]*)$/.exec(inside)?.[1] ?? '';
    return `${before}${body}\n${indent}${entry},\n${closingIndent}${after}`;
  }
  const items = inside.trim().replace(/,$/, '');
  const oneLine = `${before}${items === '' ? entry : `${items}, ${entry}`}${after}`;
  // Longer than Prettier's 100 columns: one entry per line, as Prettier breaks it.
  const lineStart = oneLine.lastIndexOf('\n', open) + 1;
  const lineEnd = oneLine.indexOf('\n', open);
  if ((lineEnd === -1 ? oneLine.length : lineEnd) - lineStart <= 100) return oneLine;
  const entries = items === '' ? [entry] : [...items.split(/,\s*/), entry];
  return `${before}\n${entries.map((e) => `  ${e},\n`).join('')}${after}`;
};

/** An import line, broken over lines as Prettier would when it is longer than 100 characters. */
const importLine = (names: readonly string[], from: string) => {
  const line = `import { ${names.join(', ')} } from '${from}';`;
  return line.length <= 100
    ? line
    : `import {\n${names.map((n) => `  ${n},\n`).join('')}} from '${from}';`;
};

/** The URL segment of the aggregate's collection: `gift-cards`, `boxes`, `categories`. */
export const collectionOf = (names: AggregateNames): string => {
  const { kebab } = names;
  if (/(s|x|z|ch|sh)$/.test(kebab)) return `${kebab}es`;
  if (/[^aeiou]y$/.test(kebab)) return `${kebab.slice(0, -1)}ies`;
  return `${kebab}s`;
};

/**
 * deployment.ts with the new aggregate imported and listed in AGGREGATES, PROJECTIONS and
 * COLLECTIONS (served at `GET /<collection>/{id}`). Throws a ScaffoldError (and changes nothing)
 * when the file is not in the shape it knows.
 */
export const registerInDeployment = (source: string, names: AggregateNames): string => {
  const imports = [...source.matchAll(/^import\s[^;]*?\sfrom\s+'([^']+)';[ \t]*$/gm)];
  if (imports.length === 0) throw shapeError('no import statement found');
  if (imports.some((m) => m[1] === `../domain/${names.kebab}`)) {
    throw new ScaffoldError(`${DEPLOYMENT_FILE} already imports ../domain/${names.kebab}`);
  }
  // After the last domain import (the domains are listed together), else after the last import.
  const anchor =
    [...imports].reverse().find((m) => m[1]!.startsWith('../domain/')) ?? imports.at(-1)!;
  const at = anchor.index + anchor[0].length;
  const added = [
    importLine([`${names.camel}Aggregate`, `type ${names.pascal}View`], `../domain/${names.kebab}`),
    importLine([`${names.camel}RowProjection`], `../domain/${names.kebab}/projections`),
  ].join('\n');
  const withImports = `${source.slice(0, at)}\n${added}${source.slice(at)}`;
  const withAggregate = appendToArray(withImports, 'AGGREGATES', `${names.camel}Aggregate`);
  const withProjection = appendToArray(withAggregate, 'PROJECTIONS', `${names.camel}RowProjection`);
  // One property per line, as Prettier writes an object of this length inside the array.
  const collection = [
    '{',
    `    collection: '${collectionOf(names)}',`,
    `    aggregate: ${names.camel}Aggregate,`,
    `    view: ${names.camel}RowProjection,`,
    `    isDeleted: (row: ${names.pascal}View) => row.status === 'deleted',`,
    '  }',
  ].join('\n');
  return appendToArray(withProjection, 'COLLECTIONS', collection);
};

/** What to do next, printed after the files are written. */
export const nextSteps = (names: AggregateNames, written: readonly string[]): string => {
  const id = `${names.kebab}-1`;
  return [
    `Created the aggregate ${names.camel} (read model ${names.kebab}):`,
    ...written.map((file) => `  ${file}`),
    '',
    'Next:',
    `  npx jest ${testFile(names)}   # the given/when/then test`,
    '  npm start   # both stacks on DynamoDB Local (decoupled API on :3001)',
    '  # then, in another terminal:',
    `  curl -s -X POST http://127.0.0.1:3001/commands -H 'content-type: application/json' \\`,
    `    -d '{"type":"${names.camel}/create","aggregateId":"${id}","payload":{"name":"First"}}'`,
    `  curl -s http://127.0.0.1:3001/${collectionOf(names)}/${id}?minVersion=1`,
    '',
    `Then make it yours: commands in ${domainFolder(names)}/commands.ts, events in events.ts,`,
    'state in reducer.ts, rules in decide.ts (docs/guide/add-an-aggregate.md).',
    `Keep ${domainFolder(names)}/examples.ts in step with your events: tests fold its`,
    'histories through every projection the aggregate feeds.',
  ].join('\n');
};
