// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { projectorHandlerFromEnv } from '../wiring';

export const handler = projectorHandlerFromEnv(process.env);
