/**
 * How the benchmark signs in (bench/identity.ts): tokens kept until they near their expiry,
 * renewed once for every caller, sent on every request; and how the token check's cost is
 * reported beside the other figures.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../../bench/http';
import {
  BENCH_USER,
  fixedToken,
  REFRESH_BEFORE_EXPIRY_MS,
  refreshingTokens,
  requestDevToken,
} from '../../bench/identity';
import { measureTokenVerification } from '../../bench/probes/token-cost';
import {
  markdownReport,
  terminalReport,
  tokenVerificationShare,
  tokenVerificationTable,
} from '../../bench/report';
import { readPublishedResult } from '../../bench/publish';
import type { BenchResult } from '../../bench/results';
import { createJwtVerifier } from '../../lambdas/core/identity/jwt-verifier';
import { startIdentityProvider } from '../../local/emulators/identity-provider';

const T0 = Date.parse('2026-12-06T10:00:00Z');

/** An unsigned token of the right shape that expires `minutes` after T0, numbered `n`. */
const tokenExpiringIn = (minutes: number, n: number) =>
  [{ alg: 'RS256' }, { sub: 'admin', n, exp: Math.floor((T0 + minutes * 60_000) / 1000) }, 's']
    .map((part) =>
      Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url'),
    )
    .join('.');

/** A mint that hands out tokens valid one hour from the clock's time, counting its calls. */
const hourlyMint = (clock: { now: number }) => {
  const minted: string[] = [];
  const mint = async () => {
    const token = tokenExpiringIn((clock.now - T0) / 60_000 + 60, minted.length + 1);
    minted.push(token);
    return token;
  };
  return { mint, minted };
};

describe('refreshingTokens', () => {
  test('given a fresh token, when asked again within the hour, then the same token is sent', async () => {
    const clock = { now: T0 };
    const { mint, minted } = hourlyMint(clock);
    const tokens = refreshingTokens(mint, { now: () => clock.now });
    const first = await tokens.current();
    clock.now = T0 + 50 * 60_000;
    expect(await tokens.current()).toBe(first);
    expect(minted).toHaveLength(1);
  });

  test('given a token with under 5 minutes left, when asked, then a new one is minted and kept', async () => {
    const clock = { now: T0 };
    const { mint, minted } = hourlyMint(clock);
    const tokens = refreshingTokens(mint, { now: () => clock.now });
    const first = await tokens.current();
    clock.now = T0 + 60 * 60_000 - REFRESH_BEFORE_EXPIRY_MS + 1;
    const second = await tokens.current();
    expect(second).not.toBe(first);
    expect(await tokens.current()).toBe(second);
    expect(minted).toEqual([first, second]);
  });

  test('given many callers at once, when no token is cached, then one mint serves them all', async () => {
    const clock = { now: T0 };
    const { mint, minted } = hourlyMint(clock);
    const tokens = refreshingTokens(mint, { now: () => clock.now });
    const all = await Promise.all(Array.from({ length: 20 }, () => tokens.current()));
    expect(new Set(all).size).toBe(1);
    expect(minted).toHaveLength(1);
  });

  test('given a refused token, when the client library asks for a refresh, then a new one comes', async () => {
    const clock = { now: T0 };
    const { mint, minted } = hourlyMint(clock);
    const tokens = refreshingTokens(mint, { now: () => clock.now });
    const first = await tokens.provider();
    const refreshed = await tokens.provider({ refresh: true });
    expect(refreshed).not.toBe(first);
    expect(await tokens.current()).toBe(refreshed);
    expect(minted).toHaveLength(2);
  });

  test('given a failing renewal, when the old token is still valid, then it is used until it expires', async () => {
    const clock = { now: T0 };
    let fail = false;
    const { mint } = hourlyMint(clock);
    const tokens = refreshingTokens(
      () => (fail ? Promise.reject(new Error('identity provider down')) : mint()),
      { now: () => clock.now },
    );
    const first = await tokens.current();
    fail = true;
    clock.now = T0 + 58 * 60_000;
    expect(await tokens.current()).toBe(first);
    clock.now = T0 + 61 * 60_000;
    await expect(tokens.current()).rejects.toThrow('identity provider down');
  });
});

test('a given token is sent as it is, and a refresh cannot replace it', async () => {
  const tokens = fixedToken('given.token.value');
  expect(await tokens.current()).toBe('given.token.value');
  expect(await tokens.provider({ refresh: true })).toBe('given.token.value');
});

test('the HTTP client sends the current token on every request, and none without tokens', async () => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    seen.push(request.headers);
    request.resume();
    request.on('end', () => response.end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const signedIn = new ApiClient(url, { tokens: fixedToken('t-1') });
  const anonymous = new ApiClient(url);
  try {
    await signedIn.request('POST', '/commands', { type: 'order/create' });
    await signedIn.request('GET', '/orders/o-1');
    await anonymous.request('GET', '/orders/o-1');
    expect(seen.map((headers) => headers.authorization)).toEqual([
      'Bearer t-1',
      'Bearer t-1',
      undefined,
    ]);
  } finally {
    signedIn.close();
    anonymous.close();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('a dev token asked of an identity provider over HTTP is the admin’s, and verifies', async () => {
  const idp = await startIdentityProvider({ port: 0 });
  try {
    const token = await requestDevToken(idp.url);
    const verify = createJwtVerifier({
      issuer: idp.issuer,
      audience: idp.audience,
      jwks: idp.jwks,
    });
    await expect(verify(token)).resolves.toMatchObject({
      sub: BENCH_USER,
      'cognito:groups': ['admin'],
    });
    await expect(requestDevToken(idp.url, 'mallory')).rejects.toThrow(
      /gave no token for mallory \(400: Unknown user "mallory"/,
    );
  } finally {
    await idp.close();
  }
});

test('the token check is measured per call: as many samples as asked, ordered percentiles', async () => {
  const figures = await measureTokenVerification({ calls: 50, warmup: 5 });
  expect(figures.calls).toBe(50);
  expect(figures.perCallUs.count).toBe(50);
  expect(figures.perCallUs.p50).toBeGreaterThan(0);
  expect(figures.perCallUs.p50).toBeLessThanOrEqual(figures.perCallUs.p95);
  expect(figures.perCallUs.p95).toBeLessThanOrEqual(figures.perCallUs.max);
  expect(figures.token).toMatchObject({ alg: 'RS256', modulusBits: 2048 });
});

describe('the token check in the results', () => {
  // The published run, without the token check a run before users did not make.
  const { tokenVerification: _published, ...published } = readPublishedResult();
  const withCheck: BenchResult = {
    ...published,
    mode: 'local',
    tokenVerification: {
      calls: 1000,
      warmup: 200,
      perCallUs: { count: 1000, min: 40, mean: 55, p50: 50, p95: 80, p99: 120, max: 400 },
      token: { alg: 'RS256', modulusBits: 2048, bytes: 800 },
    },
  };

  test('results without it (runs before users) show no token section', () => {
    expect(tokenVerificationTable(published)).toBeUndefined();
    expect(markdownReport(published)).not.toContain('Token verification');
  });

  test('results with it show its percentiles in µs, in the Markdown and the terminal', () => {
    expect(tokenVerificationTable(withCheck)!.rows).toEqual([
      [
        'RS256, 2048-bit key cached, 800-byte ID token',
        '1000',
        '50.0',
        '80.0',
        '120',
        '400',
        '55.0',
      ],
    ]);
    expect(markdownReport(withCheck)).toContain('#### Token verification');
    expect(terminalReport(withCheck)).toContain('Token verification');
  });

  test('its share of each profile’s 1-client ack p50 is computed from the same run', () => {
    const coupled = withCheck.headline.runners.coupled!.ack!.p50;
    const share = tokenVerificationShare(withCheck)!;
    const percent = (100 * 0.05) / coupled;
    expect(share).toContain(
      `coupled ${percent < 1 ? percent.toFixed(2) : percent.toFixed(1)}% of its ack p50`,
    );
    expect(tokenVerificationShare({ ...withCheck, mode: 'remote' })).toBeUndefined();
  });
});
