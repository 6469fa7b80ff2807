// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { queryHandlerFromEnv } from '../wiring';

export const handler = queryHandlerFromEnv(process.env);
