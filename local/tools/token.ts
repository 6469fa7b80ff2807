/**
 * `npm run token -- --user alice`: prints an ID token of a dev user, and nothing else, from the
 * running `npm start`'s identity provider (found through its runtime file), so
 * `TOKEN=$(npm run -s token -- --user alice)` works. A user's roles are the dev user's own:
 * `--user support` and `--user admin` sign in as staff.
 *
 * Exit status: 0 with the token on stdout; 1 when no runtime is running (or its identity provider
 * does not answer); 2 for bad input (an unknown flag or user). Errors go to stderr, one line each.
 */
import { parseArgs } from 'node:util';
import { LOCAL_RUNTIME_FILE, readRuntimeFile } from '../emulators/runtime-file';

export const USAGE = `Usage: npm run -s token -- --user <name> [options]

Prints an ID token of a dev user, signed by the running npm start's identity provider; use it
as \`authorization: Bearer <token>\` on the APIs and as \`?token=<token>\` on the WebSockets:

  TOKEN=$(npm run -s token -- --user alice)
  curl -s -H "authorization: Bearer $TOKEN" http://127.0.0.1:3001/<collection>/<id>

  --user <name>            the dev user: alice, bob (customers), support, admin
  --runtime-file <file>    where npm start says what runs    (default ${LOCAL_RUNTIME_FILE})
  --help                   this text

Tokens last one hour; a restart of npm start makes new keys, so old tokens are refused (401).
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Nothing to ask: no runtime file, or its identity provider does not answer. */
export class NotRunningError extends Error {
  override readonly name = 'NotRunningError';
}

export interface TokenCliOptions {
  readonly user: string;
  readonly runtimeFile: string;
}

export const parseTokenCli = (
  argv: readonly string[],
): { help: true } | { help: false; options: TokenCliOptions } => {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        user: { type: 'string', short: 'u' },
        'runtime-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { help: true };
  if (!values.user) {
    throw new UsageError('--user is required, e.g. --user alice (alice, bob, support, admin)');
  }
  return {
    help: false,
    options: { user: values.user, runtimeFile: values['runtime-file'] ?? LOCAL_RUNTIME_FILE },
  };
};

/** Asks the running identity provider for a token; throws UsageError or NotRunningError. */
export const requestToken = async (options: TokenCliOptions): Promise<string> => {
  const identityUrl = readRuntimeFile(options.runtimeFile)?.identity?.url;
  if (!identityUrl) {
    throw new NotRunningError(
      `no running local runtime with an identity provider found (${options.runtimeFile}): start it with npm start`,
    );
  }
  let response: Response;
  try {
    response = await fetch(`${identityUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: options.user }),
      signal: AbortSignal.timeout(5_000),
    });
  } catch (error) {
    const reason = (error as { cause?: { code?: string } }).cause?.code ?? String(error);
    throw new NotRunningError(
      `the identity provider at ${identityUrl} does not answer (${reason}): is npm start running? (${options.runtimeFile} may be left from an earlier run)`,
    );
  }
  const body = (await response.json().catch(() => ({}))) as {
    id_token?: string;
    error?: { message?: string };
  };
  if (response.status === 400) {
    throw new UsageError(
      body.error?.message ?? `the identity provider refused --user ${options.user}`,
    );
  }
  if (!response.ok || typeof body.id_token !== 'string') {
    throw new Error(
      `the identity provider at ${identityUrl} answered ${response.status}: ${body.error?.message ?? 'no token'}`,
    );
  }
  return body.id_token;
};

const main = async () => {
  try {
    const parsed = parseTokenCli(process.argv.slice(2));
    if (parsed.help) {
      process.stdout.write(USAGE);
      return;
    }
    process.stdout.write(`${await requestToken(parsed.options)}\n`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) {
      console.error(`error: ${message}\n(npm run token -- --help lists the options)`);
      process.exit(2);
    }
    console.error(`error: ${message}`);
    process.exit(1);
  }
};

if (require.main === module) void main();
