// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { workflowsHandlerFromEnv } from '../wiring';

export const handler = workflowsHandlerFromEnv(process.env);
