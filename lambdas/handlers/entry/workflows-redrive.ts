// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { workflowsRedriveHandlerFromEnv } from '../wiring';

export const handler = workflowsRedriveHandlerFromEnv(process.env);
