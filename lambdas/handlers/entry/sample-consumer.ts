// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { sampleConsumerHandlerFromEnv } from '../bus-wiring';

export const handler = sampleConsumerHandlerFromEnv(process.env);
