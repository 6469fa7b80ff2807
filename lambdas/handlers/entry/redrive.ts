// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { redriveHandlerFromEnv } from '../wiring';

export const handler = redriveHandlerFromEnv(process.env);
