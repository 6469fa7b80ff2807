/**
 * The local gateways' token check remembers the tokens it accepted, each until it expires
 * (rememberingVerifier, lambdas/core/identity/token-verifier.ts): same answers, one signature
 * check per token instead of one per request.
 */
import { createJwtVerifier } from '../../lambdas/core/identity/jwt-verifier';
import {
  rememberingVerifier,
  TokenRejectedError,
  type TokenVerifier,
  type VerifiedClaims,
} from '../../lambdas/core/identity/token-verifier';
import {
  type RunningIdentityProvider,
  startIdentityProvider,
} from '../../local/emulators/identity-provider';

/** Accepts `good-<sub>` until second 100 of the clock, refuses the rest; counts what it is asked. */
const fakeVerifier = (clock: { ms: number }) => {
  const asked: string[] = [];
  const verify: TokenVerifier = (token) => {
    asked.push(token);
    if (!token.startsWith('good-') || clock.ms >= 100_000) {
      return Promise.reject(new TokenRejectedError('refused'));
    }
    return Promise.resolve({ sub: token.slice(5), exp: 100 } as VerifiedClaims);
  };
  return { asked, verify };
};

describe('rememberingVerifier', () => {
  test('given a token accepted once, when it is sent again before it expires, then the verifier is not asked again', async () => {
    const clock = { ms: 0 };
    const { asked, verify } = fakeVerifier(clock);
    const remembering = rememberingVerifier(verify, { now: () => clock.ms });
    const first = await remembering('good-alice');
    clock.ms = 99_999;
    await expect(remembering('good-alice')).resolves.toBe(first);
    expect(asked).toEqual(['good-alice']);
  });

  test('given a remembered token, when its exp is reached, then the verifier is asked again and its refusal is the answer', async () => {
    const clock = { ms: 0 };
    const { asked, verify } = fakeVerifier(clock);
    const remembering = rememberingVerifier(verify, { now: () => clock.ms });
    await remembering('good-alice');
    clock.ms = 100_000;
    await expect(remembering('good-alice')).rejects.toBeInstanceOf(TokenRejectedError);
    await expect(remembering('good-alice')).rejects.toBeInstanceOf(TokenRejectedError);
    expect(asked).toEqual(['good-alice', 'good-alice', 'good-alice']);
  });

  test('given a refused token, when it is sent again, then the verifier is asked again', async () => {
    const { asked, verify } = fakeVerifier({ ms: 0 });
    const remembering = rememberingVerifier(verify, { now: () => 0 });
    await expect(remembering('forged')).rejects.toBeInstanceOf(TokenRejectedError);
    await expect(remembering('forged')).rejects.toBeInstanceOf(TokenRejectedError);
    expect(asked).toEqual(['forged', 'forged']);
  });

  test('given a limit of 2, when a third token is accepted, then the one used longest ago is forgotten', async () => {
    const { asked, verify } = fakeVerifier({ ms: 0 });
    const remembering = rememberingVerifier(verify, { limit: 2, now: () => 0 });
    for (const token of ['good-a', 'good-b', 'good-a', 'good-c', 'good-a', 'good-b']) {
      await remembering(token);
    }
    expect(asked).toEqual(['good-a', 'good-b', 'good-c', 'good-b']);
  });
});

describe('rememberingVerifier over the verifier the gateways use', () => {
  let idp: RunningIdentityProvider;
  beforeAll(async () => {
    idp = await startIdentityProvider({ port: 0 });
  });
  afterAll(() => idp.close());

  test('given a token remembered, when a token differing only in its signature is sent, then it is refused', async () => {
    const verify = rememberingVerifier(
      createJwtVerifier({ issuer: idp.issuer, audience: idp.audience, jwks: idp.jwks }),
    );
    const token = idp.tokenFor('alice');
    await expect(verify(token)).resolves.toMatchObject({ sub: expect.any(String) });
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const forged = `${token.slice(0, -2)}${last}${token.at(-1)}`;
    await expect(verify(forged)).rejects.toBeInstanceOf(TokenRejectedError);
  });
});
