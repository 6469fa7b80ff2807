/**
 * The handlers of both stacks on one set of test tables, built as the cloud builds them
 * (lambdas/handlers/wiring.ts), each with its own test logger.
 */
import {
  commandHandlerFromEnv,
  coupledHandlerFromEnv,
  projectorHandlerFromEnv,
  queryHandlerFromEnv,
} from '../../lambdas/handlers/wiring';
import { testLogger } from './logs';

export const stackHandlers = (env: Record<string, string>) => ({
  /** The decoupled command function (`POST /commands`, 202). */
  decoupled: commandHandlerFromEnv(env, { logger: testLogger('command') }),
  /** The coupled function (every route; commands answer 200 with the view). */
  coupled: coupledHandlerFromEnv(env, { logger: testLogger('coupled') }),
  /** The decoupled query function (the GET routes). */
  query: queryHandlerFromEnv(env, { logger: testLogger('query') }),
  /** The stream projector (decoupled; the coupled one is the same code). */
  project: projectorHandlerFromEnv(env, { logger: testLogger('projector') }),
});

export type StackHandlers = ReturnType<typeof stackHandlers>;
