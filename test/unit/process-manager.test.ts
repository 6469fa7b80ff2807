/**
 * The declaration side of process managers (lambdas/core/workflows/process-manager.ts): the
 * commandIds that make a redelivered event harmless, the actor a process's commands run as, and
 * the cold-start check of the declarations.
 */
import { isAdmin } from '../../lambdas/core/identity/authorization';
import {
  type AnyProcessManager,
  checkProcessManagers,
  processActor,
} from '../../lambdas/core/workflows/process-manager';
import { processCommandId } from '../../lambdas/core/workflows/process-command-id';
import { fulfilmentProcess } from '../../lambdas/domain/fulfilment';
import { PROCESS_MANAGERS } from '../../lambdas/handlers/deployment';

/** What `POST /commands` accepts as a commandId (lambdas/handlers/http-edge.ts). */
const API_COMMAND_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const manager = { name: 'order-fulfilment' };

describe('processCommandId', () => {
  test('given the same manager, trigger, step and key, when derived twice, then it is the same id', () => {
    expect(processCommandId(manager, 'order-1@4', 0, 'reserve:A')).toBe(
      processCommandId({ name: 'order-fulfilment' }, 'order-1@4', 0, 'reserve:A'),
    );
  });

  test('given one command, when the trigger, the step, the key or the manager differs, then the id differs', () => {
    const ids = [
      processCommandId(manager, 'order-1@4', 0, 'reserve:A'),
      processCommandId(manager, 'order-1@5', 0, 'reserve:A'),
      processCommandId(manager, 'order-2@4', 0, 'reserve:A'),
      processCommandId(manager, 'timer:t-1', 0, 'reserve:A'),
      processCommandId(manager, 'order-1@4', 1, 'reserve:A'),
      processCommandId(manager, 'order-1@4', 0, 'reserve:B'),
      processCommandId(manager, 'order-1@4', 0, 'release:A'),
      processCommandId({ name: 'other-process' }, 'order-1@4', 0, 'reserve:A'),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('given parts that could be joined ambiguously, when derived, then the ids still differ', () => {
    expect(processCommandId(manager, 'a@1', 1, '2:x')).not.toBe(
      processCommandId(manager, 'a@1', 12, ':x'),
    );
  });

  test.each([
    ['a short name and key', 'order-fulfilment', 'reserve:A'],
    ['the longest name and a long key', `a${'b'.repeat(62)}`, `reserve:${'Ü/ #'.repeat(64)}`],
  ])('given %s, when derived, then it fits the API commandId pattern', (_, name, key) => {
    const id = processCommandId({ name }, `order-1@${Number.MAX_SAFE_INTEGER}`, 9, key);
    expect(id).toMatch(API_COMMAND_ID);
    expect(id.startsWith(`pm:${name}:`)).toBe(true);
  });
});

describe('processActor', () => {
  test('given a process manager, then its commands run as the admin process:<name>', () => {
    const actor = processActor(fulfilmentProcess);
    expect(actor).toEqual({ subject: 'process:order-fulfilment', roles: ['admin'] });
    expect(isAdmin(actor)).toBe(true);
  });
});

describe('checkProcessManagers', () => {
  const declared = (changes: Partial<AnyProcessManager>): AnyProcessManager => ({
    ...fulfilmentProcess,
    ...changes,
  });

  test("given the deployment's process managers, then they pass", () => {
    expect(() => checkProcessManagers(PROCESS_MANAGERS)).not.toThrow();
  });

  test.each([[''], ['Order-fulfilment'], ['order_fulfilment'], ['1-order'], ['a'.repeat(64)]])(
    'given the name %p, then it is refused',
    (name) => {
      expect(() => checkProcessManagers([declared({ name })])).toThrow(/must be 1-63 of a-z/);
    },
  );

  test.each([[0], [-1], [1.5], [Number.NaN]])(
    'given the version %p, then it is refused',
    (version) => {
      expect(() => checkProcessManagers([declared({ version })])).toThrow(
        /version must be a positive integer/,
      );
    },
  );

  test('given one name and version declared twice, then it is refused', () => {
    expect(() => checkProcessManagers([declared({}), declared({})])).toThrow(
      'Process manager order-fulfilment@v1 is declared twice',
    );
  });

  test('given one name at two versions (side by side), then it passes', () => {
    expect(() => checkProcessManagers([declared({}), declared({ version: 2 })])).not.toThrow();
  });

  test('given no event types, then it is refused', () => {
    expect(() => checkProcessManagers([declared({ eventTypes: [] })])).toThrow(
      'Process manager order-fulfilment reacts to nothing',
    );
  });
});
