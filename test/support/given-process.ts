/**
 * given(state) / when(input) / then(step), for pure process managers: no runner, no store.
 * The process manager's twin of the aggregate kit (lambdas/core/given.ts):
 *
 *   givenProcess(fulfilmentProcess)
 *     .source(created, lineA)                       // the source aggregate's history so far
 *     .when({ type: 'order/submitted', payload: {} }) // its next event (or any ProcessInput)
 *     .then({ state, send: [reserveA], timer });
 *   givenProcess(fulfilmentProcess).state(reserving).when(outcomes(accepted(reserveA))).then(...);
 *
 * `when` takes an event as `decide` returns it (`{ type, payload }`): it is stamped as the
 * source aggregate's next version and comes with `before`, the source reducer's fold of the
 * `source` events, as the runner hands it. Any other input (`outcomes(...)`, `timer(name)`) is
 * passed as is. `then` compares the whole step: the state, the commands sent (none when
 * omitted) and the timer set (none when omitted).
 */
import { stamp } from '../../lambdas/core/given';
import type { NewEvent } from '../../lambdas/core/events/events';
import { toAction } from '../../lambdas/core/events/events';
import type {
  CommandOutcome,
  ProcessCommand,
  ProcessInput,
  ProcessManager,
  ProcessStep,
} from '../../lambdas/core/workflows/process-manager';

/** What a step is expected to be: `send` and `timer` default to nothing. */
export interface ExpectedStep<State> {
  readonly state: State;
  readonly send?: readonly ProcessCommand[];
  readonly timer?: ProcessStep<State>['timer'];
}

export interface ProcessWhen<State> {
  /** The step `react` returned, for checks `then` does not make. */
  readonly step: ProcessStep<State>;
  /** The step is exactly this: this state, these commands in this order, this timer. */
  then(expected: ExpectedStep<State>): void;
  /** The state is left as it was, nothing is sent and no timer set. */
  thenNothing(): void;
}

export interface GivenProcess<State, Source> {
  /** The process's state before the input (default: none, a process not started). */
  state(state: State | undefined): GivenProcess<State, Source>;
  /** The source aggregate's events so far: the `before` of the event `when` sends. */
  source(...history: NewEvent[]): GivenProcess<State, Source>;
  when(input: NewEvent | ProcessInput<Source>): ProcessWhen<State>;
}

const isEvent = (input: NewEvent | ProcessInput<unknown>): input is NewEvent => !('kind' in input);

/** Scenarios of one process manager, on the source aggregate `aggregateId`. */
export const givenProcess = <State, Source>(
  manager: ProcessManager<State, Source>,
  aggregateId = 'agg-1',
): GivenProcess<State, Source> => {
  const build = (
    state: State | undefined,
    history: readonly NewEvent[],
  ): GivenProcess<State, Source> => ({
    state: (next) => build(next, history),
    source: (...events) => build(state, events),
    when: (input) => {
      const reduce = manager.source.reducer as (s: Source, e: unknown) => Source;
      const stored = stamp(aggregateId, isEvent(input) ? [...history, input] : history);
      const before = stored
        .slice(0, isEvent(input) ? -1 : undefined)
        .map(toAction)
        .reduce(reduce, manager.source.initialState);
      const processInput: ProcessInput<Source> = isEvent(input)
        ? { kind: 'event', event: toAction(stored.at(-1)!), before }
        : input;
      const step = manager.react(state, processInput);
      const actual = { state: step.state, send: step.send ?? [], timer: step.timer };
      return {
        step,
        then: (expected) =>
          expect(actual).toEqual({
            state: expected.state,
            send: expected.send ?? [],
            timer: expected.timer,
          }),
        thenNothing: () => expect(actual).toEqual({ state, send: [], timer: undefined }),
      };
    },
  });
  return build(undefined, []);
};

/** The input of the step after one that sent commands. */
export const outcomes = (...list: CommandOutcome[]): ProcessInput<never> => ({
  kind: 'outcomes',
  outcomes: list,
});

/** A timer the process set is due. */
export const timer = (name: string): ProcessInput<never> => ({ kind: 'timer', name });

/** `command` ran: its aggregate is now at `version`. */
export const accepted = (command: ProcessCommand, version = 1): CommandOutcome => ({
  command,
  accepted: true,
  version,
});

/** `command` was refused by the domain rule `rule` (a 422, as the API answers it). */
export const refused = (
  command: ProcessCommand,
  rule: string,
  code = 'RULE_VIOLATED',
): CommandOutcome => ({
  command,
  accepted: false,
  error: { code, message: `refused: ${rule}`, details: { rule } },
});
