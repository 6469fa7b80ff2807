// Lambda entry point: built once per execution environment (cold start); fails loudly on bad env.
import { connectAuthorizerFromEnv } from '../identity-wiring';

export const handler = connectAuthorizerFromEnv(process.env);
