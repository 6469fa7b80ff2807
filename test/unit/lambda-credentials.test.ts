import {
  credentialsFromEnvironment,
  defaultProvider,
} from '../../lambdas/core/shared/lambda-credentials';

describe('the bundles’ credentials: what the Lambda runtime sets', () => {
  it('reads the role credentials, session token included', async () => {
    const env = { AWS_ACCESS_KEY_ID: 'ASIA1', AWS_SECRET_ACCESS_KEY: 's', AWS_SESSION_TOKEN: 't' };
    expect(credentialsFromEnvironment(env)).toEqual({
      accessKeyId: 'ASIA1',
      secretAccessKey: 's',
      sessionToken: 't',
    });
    expect(credentialsFromEnvironment({ ...env, AWS_SESSION_TOKEN: '' })).toEqual({
      accessKeyId: 'ASIA1',
      secretAccessKey: 's',
    });
  });

  it('names the variables it needs when they are missing', () => {
    expect(() => credentialsFromEnvironment({ AWS_ACCESS_KEY_ID: 'ASIA1' })).toThrow(
      /AWS_SECRET_ACCESS_KEY/,
    );
  });

  it('has the SDK chain’s call shape: defaultProvider(init) gives a provider', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'ASIA2', AWS_SECRET_ACCESS_KEY: 'x' });
    try {
      await expect(defaultProvider()()).resolves.toMatchObject({ accessKeyId: 'ASIA2' });
    } finally {
      process.env = saved;
    }
  });
});
