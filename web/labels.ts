/**
 * Words the demo shows that could be misread. An order has statuses `confirmed` and `rejected`
 * (the fulfilment workflow's outcome), so what the server did with one of the user's commands
 * is said with other words: accepted or refused, and "as the server has it" for the state the
 * server acknowledged. Pure, so each wording has a unit test.
 */
import type { ActivityEntry } from './demo-state';

/** How a workflow's commands are signed (`processActor` in lambdas/core/workflows). */
const PROCESS_ACTOR_PREFIX = 'process:';

/**
 * Who made a version, as `/history` names them (`actor`): a user's subject as it is (`alice`),
 * a workflow's `process:<name>` as `workflow <name>`.
 */
export const actorLabel = (actor: string): string =>
  actor.startsWith(PROCESS_ACTOR_PREFIX) && actor.length > PROCESS_ACTOR_PREFIX.length
    ? `workflow ${actor.slice(PROCESS_ACTOR_PREFIX.length)}`
    : actor;

/** What the history panel calls the state at `shown` of `latest` server-acknowledged versions. */
export const historyStateLabel = (shown: number, latest: number): string =>
  shown === latest ? 'As the server has it now' : `As it was at version ${shown}`;

/** A command of the activity list and what the server did with it. */
export const describeOutcome = (entry: ActivityEntry): string => {
  switch (entry.state) {
    case 'pending':
      return entry.attempts
        ? `pending · ${entry.attempts} tries · ${entry.lastError ?? ''}`
        : 'pending';
    case 'confirmed':
      return `accepted · v${entry.version}${entry.replayed ? ' (replayed)' : ''}`;
    case 'rejected':
      return `refused · ${entry.status} ${entry.code}: ${entry.message}${
        entry.issues?.length
          ? ` (${entry.issues.map((i) => `${i.path.replace(/^payload\./, '')}: ${i.message}`).join('; ')})`
          : ''
      }`;
    case 'unknown':
      return 'outcome unknown · no answer for too long; the view was read again';
    case 'elsewhere':
      return 'settled while this page was closed';
    default: {
      const unhandled: never = entry.state;
      return unhandled;
    }
  }
};
