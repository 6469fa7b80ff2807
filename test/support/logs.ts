/** Loggers that stay silent in tests, except while `captureLogs` reads what they write. */
import { Logger } from '@aws-lambda-powertools/logger';

const loggers: Logger[] = [];

export const testLogger = (serviceName = 'test') => {
  const logger = new Logger({ serviceName, logLevel: 'SILENT' });
  loggers.push(logger);
  return logger;
};

/** Captures the JSON lines the test loggers (and their children) write while `fn` runs. */
export const captureLogs = async <T>(
  fn: () => Promise<T>,
): Promise<{ result: T; lines: Record<string, unknown>[] }> => {
  loggers.forEach((logger) => logger.setLogLevel('DEBUG'));
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  // Powertools writes WARN and ERROR lines to stderr, the others to stdout.
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  try {
    const result = await fn();
    const lines = chunks
      .join('')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { result, lines };
  } finally {
    spies.forEach((spy) => spy.mockRestore());
    loggers.forEach((logger) => logger.setLogLevel('SILENT'));
  }
};
