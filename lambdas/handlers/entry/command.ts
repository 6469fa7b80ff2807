// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { commandHandlerFromEnv } from '../wiring';

export const handler = commandHandlerFromEnv(process.env);
