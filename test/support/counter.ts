/**
 * A second, tiny aggregate for core tests: a counter that increments up to 100. Nothing in core
 * knows about orders, and these tests show it.
 */
import { z } from 'zod';
import type { AggregateDefinition } from '../../lambdas/core/command/aggregate';
import { RuleViolation } from '../../lambdas/core/shared/errors';
import { OPEN_RULES } from './permissions';

export type CounterCommand =
  | { type: 'counter/increment'; payload: { by: number } }
  | { type: 'counter/noop'; payload: Record<string, never> };
export type CounterEvent = { type: 'counter/incremented'; payload: { by: number } };

export const COUNTER_LIMIT = 100;

export const counter: AggregateDefinition<number, CounterCommand, CounterEvent> = {
  type: 'counter',
  initialState: 0,
  reducer: (state = 0, event) =>
    event.type === 'counter/incremented' ? state + event.payload.by : state,
  decide: (state, command) => {
    if (command.type === 'counter/noop') return [];
    if (state + command.payload.by > COUNTER_LIMIT) {
      throw new RuleViolation('COUNTER_LIMIT', `at most ${COUNTER_LIMIT}`);
    }
    return [{ type: 'counter/incremented', payload: command.payload }];
  },
  commandSchemas: {
    'counter/increment': z.strictObject({ by: z.number().int().positive() }),
    'counter/noop': z.strictObject({}),
  },
  ...OPEN_RULES,
};
