/**
 * What a token check costs: the verifier every local gateway and the `$connect` authorizer run
 * (createJwtVerifier, lambdas/core/identity/jwt-verifier.ts, on aws-jwt-verify) verifying an
 * RS256 ID token of the development identity provider, its key already cached (the steady state:
 * the keys are fetched once per `kid`), one call at a time, each timed with performance.now().
 * The bench reports it beside its latencies (`tokenVerification` in latest.json); deployed, API
 * Gateway's JWT authorizer makes the same checks outside any function.
 *
 * Run alone: node --import tsx bench/probes/token-cost.ts [calls] [warm-up calls]
 */
import { createJwtVerifier } from '../../lambdas/core/identity/jwt-verifier';
import { startIdentityProvider } from '../../local/emulators/identity-provider';
import { BENCH_USER } from '../identity';
import { type Summary, summarize } from '../stats';

export interface TokenVerificationFigures {
  /** Measured calls (after `warmup` unrecorded ones). */
  readonly calls: number;
  readonly warmup: number;
  /** Microseconds per verification. */
  readonly perCallUs: Summary;
  /** The token verified: its algorithm and size. */
  readonly token: { readonly alg: 'RS256'; readonly modulusBits: 2048; readonly bytes: number };
}

export const TOKEN_VERIFICATION_METHOD =
  'createJwtVerifier (lambdas/core/identity/jwt-verifier.ts, aws-jwt-verify) verifying the admin’s RS256 ID token of a development identity provider (2048-bit key, already cached: no JWKS fetch), one call at a time in the bench’s own process, each timed with performance.now(): signature, iss, aud, exp and nbf, as a local gateway does the first time it sees a token (it remembers a token it accepted until it expires) and API Gateway’s JWT authorizer deployed.';

/** Verifies one token `warmup + calls` times and summarizes the measured calls (µs). */
export const measureTokenVerification = async (
  settings: { calls: number; warmup: number } = { calls: 5000, warmup: 500 },
): Promise<TokenVerificationFigures> => {
  const idp = await startIdentityProvider({ port: 0 });
  try {
    const verify = createJwtVerifier({
      issuer: idp.issuer,
      audience: idp.audience,
      jwks: idp.jwks,
    });
    const token = idp.tokenFor(BENCH_USER);
    const micros: number[] = [];
    for (let call = 0; call < settings.warmup + settings.calls; call++) {
      const started = performance.now();
      await verify(token);
      const elapsed = performance.now() - started;
      if (call >= settings.warmup) micros.push(elapsed * 1000);
    }
    return {
      calls: micros.length,
      warmup: settings.warmup,
      perCallUs: summarize(micros)!,
      token: { alg: 'RS256', modulusBits: 2048, bytes: Buffer.byteLength(token) },
    };
  } finally {
    await idp.close();
  }
};

if (require.main === module) {
  const calls = Number(process.argv[2] ?? 5000);
  const warmup = Number(process.argv[3] ?? 500);
  if (!Number.isInteger(calls) || calls < 1 || !Number.isInteger(warmup) || warmup < 0) {
    console.error('usage: node --import tsx bench/probes/token-cost.ts [calls] [warm-up calls]');
    process.exit(2);
  }
  void measureTokenVerification({ calls, warmup }).then((figures) => {
    const s = figures.perCallUs;
    console.log(
      `token verification (${figures.token.alg}, ${figures.token.bytes}-byte token, key cached), ${figures.calls} calls after ${figures.warmup}: p50 ${s.p50.toFixed(1)} µs, p95 ${s.p95.toFixed(1)}, p99 ${s.p99.toFixed(1)}, max ${s.max.toFixed(1)}, mean ${s.mean.toFixed(1)}`,
    );
  });
}
