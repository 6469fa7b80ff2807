/** POST /commands for the decoupled profile: validate, run the command, answer 202. */
import type { CommandRunner } from '../core/command/command-runner';
import { json } from './http';
import {
  commandResultHeaders,
  type HttpEdgeDependencies,
  logCommandResult,
  readCommand,
  withHttpEdge,
} from './http-edge';

export interface CommandApiDependencies extends HttpEdgeDependencies {
  readonly runCommand: CommandRunner;
}

export const createCommandApiHandler = (deps: CommandApiDependencies) =>
  withHttpEdge(deps, async (event, correlationId, log, lambda) => {
    const { input, context } = readCommand(event, correlationId, deps, lambda);
    const result = await deps.runCommand(input, { ...context, log });
    logCommandResult(log, input, result);
    return json(
      202,
      { aggregateId: result.aggregateId, version: result.version, events: result.events },
      commandResultHeaders(result),
    );
  });
