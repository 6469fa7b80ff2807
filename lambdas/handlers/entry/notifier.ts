// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { notifierHandlerFromEnv } from '../push-wiring';

export const handler = notifierHandlerFromEnv(process.env);
