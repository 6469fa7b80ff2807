// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { busEnrichmentHandlerFromEnv } from '../bus-wiring';

export const handler = busEnrichmentHandlerFromEnv(process.env);
