// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { webSocketHandlerFromEnv } from '../push-wiring';

export const handler = webSocketHandlerFromEnv(process.env);
