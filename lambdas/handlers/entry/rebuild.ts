// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { Logger } from '@aws-lambda-powertools/logger';
import { PROJECTIONS } from '../deployment';
import { rebuildHandlerFromEnv } from '../rebuild';

export const handler = rebuildHandlerFromEnv(
  process.env,
  PROJECTIONS,
  new Logger({ serviceName: 'rebuild' }),
);
