// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { coupledHandlerFromEnv } from '../wiring';

export const handler = coupledHandlerFromEnv(process.env);
