import { documentClient } from '../../lambdas/handlers/document-client';
import { ENV } from '../../lambdas/handlers/environment';

describe('documentClient', () => {
  const env = { [ENV.dynamoDbEndpoint]: 'http://127.0.0.1:1', AWS_REGION: 'local' };

  it('gives a function one client for all its stores: the same environment, the same client', () => {
    expect(documentClient(env)).toBe(documentClient(env));
  });

  it('gives another function (another environment) a client of its own', () => {
    expect(documentClient({ ...env })).not.toBe(documentClient(env));
  });

  it('makes a new client when the environment now names another endpoint', async () => {
    const changing: Record<string, string> = { ...env };
    const first = documentClient(changing);
    changing[ENV.dynamoDbEndpoint] = 'http://127.0.0.1:2';
    const second = documentClient(changing);
    expect(second).not.toBe(first);
    const endpoint = await second.config.endpoint!();
    expect(endpoint.port).toBe(2);
  });
});
