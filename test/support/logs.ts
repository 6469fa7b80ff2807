/** Captures the JSON lines Powertools Logger writes to stdout while `fn` runs. */
import { Logger } from '@aws-lambda-powertools/logger';

export const testLogger = (serviceName = 'test') => new Logger({ serviceName, logLevel: 'DEBUG' });

export const captureLogs = async <T>(
  fn: () => Promise<T>,
): Promise<{ result: T; lines: Record<string, unknown>[] }> => {
  const chunks: string[] = [];
  const spy = jest
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    });
  try {
    const result = await fn();
    const lines = chunks
      .join('')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, lines };
  } finally {
    spy.mockRestore();
  }
};
