/**
 * The demo's words that could be misread (web/labels.ts): who made a version, what the server
 * did with a command, and the state the server has, none of them in the order statuses' words.
 */
import type { ActivityEntry } from '../../web/demo-state';
import { actorLabel, describeOutcome, historyStateLabel } from '../../web/labels';

const entry = (fields: Partial<ActivityEntry> & Pick<ActivityEntry, 'state'>): ActivityEntry => ({
  commandId: 'c-1',
  type: 'order/submit',
  aggregateId: 'order-1',
  ...fields,
});

describe('who made a version', () => {
  test("given a user's subject, when labelled, then it is the subject as it is", () => {
    expect(actorLabel('alice')).toBe('alice');
    expect(actorLabel('support')).toBe('support');
  });

  test("given a workflow's process actor, when labelled, then it reads workflow and its name", () => {
    expect(actorLabel('process:order-fulfilment')).toBe('workflow order-fulfilment');
    expect(actorLabel('process:any-other')).toBe('workflow any-other');
  });

  test('given a bare prefix with no name, when labelled, then it is shown as it is', () => {
    expect(actorLabel('process:')).toBe('process:');
  });
});

describe('the history state label', () => {
  test('given the latest version, when labelled, then it says the server has it, not "confirmed"', () => {
    expect(historyStateLabel(4, 4)).toBe('As the server has it now');
    expect(historyStateLabel(4, 4)).not.toMatch(/confirmed/i);
  });

  test('given an older version, when labelled, then it names that version', () => {
    expect(historyStateLabel(2, 4)).toBe('As it was at version 2');
  });
});

describe("a command's outcome in the activity list", () => {
  test('given a command the server accepted, when described, then it says accepted and the version, never "confirmed"', () => {
    const text = describeOutcome(entry({ state: 'confirmed', version: 3, replayed: true }));
    expect(text).toBe('accepted · v3 (replayed)');
    expect(text).not.toMatch(/confirmed/i);
  });

  test('given a command the server refused, when described, then it says refused with the answer and field issues, never "rejected"', () => {
    const text = describeOutcome(
      entry({
        state: 'rejected',
        status: 400,
        code: 'VALIDATION_FAILED',
        message: 'Invalid command',
        issues: [{ path: 'payload.quantity', message: 'at most 10000' }],
      }),
    );
    expect(text).toBe('refused · 400 VALIDATION_FAILED: Invalid command (quantity: at most 10000)');
    expect(text).not.toMatch(/rejected/i);
  });

  test('given a pending command retried twice, when described, then it says pending with the tries and the last error', () => {
    expect(describeOutcome(entry({ state: 'pending', attempts: 2, lastError: 'offline' }))).toBe(
      'pending · 2 tries · offline',
    );
  });
});
