/**
 * `.local-data/local-runtime.json`: written by `npm start` once it is up, removed when it stops.
 * It tells the operator tools (`npm run redrive`, `npm run reproject`, `npm run rebuild`) where
 * the running DynamoDB Local is (a free port by default), which tables each stack uses, where
 * each stack's API listens (its real port), where the development identity provider is (`npm run
 * token` asks it for a token), and how `npm start` was started, so a tool can print commands that
 * fit the running stack (`npm run rebuild`'s query and switch commands).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LocalRuntime } from './runtime';

export const LOCAL_RUNTIME_FILE = '.local-data/local-runtime.json';

/** How `npm start` was started: its flags and the settings it read from the environment. */
export interface RuntimeStart {
  readonly args: readonly string[];
  /** Only the variables `npm start` reads (e.g. DECOUPLED_PORT), as set when it started. */
  readonly env: Readonly<Record<string, string>>;
  /** DynamoDB Local's data directory; absent: in memory (a restart starts from empty tables). */
  readonly dataDir?: string;
}

export interface LocalRuntimeFile {
  readonly pid: number;
  readonly dynamoDbEndpoint: string;
  readonly tables: LocalRuntime['tables'];
  readonly onFailureFile?: string;
  /** Each stack's API base URL, e.g. `http://127.0.0.1:3001`. */
  readonly apiUrls?: { readonly decoupled?: string; readonly coupled?: string };
  /** The development identity provider: its URL (also the tokens' issuer) and audience. */
  readonly identity?: { readonly url: string; readonly audience: string };
  readonly start?: RuntimeStart;
}

/** What the file records of a runtime (its identity provider may be absent in a test's stand-in). */
type RecordedRuntime = Omit<LocalRuntime, 'identity' | 'bus' | 'schedulers'> & {
  readonly identity?: Pick<LocalRuntime['identity'], 'url' | 'audience'>;
};

export const writeRuntimeFile = async (
  runtime: RecordedRuntime,
  file = LOCAL_RUNTIME_FILE,
  start?: RuntimeStart,
) => {
  const content: LocalRuntimeFile = {
    pid: process.pid,
    dynamoDbEndpoint: runtime.dynamoDbEndpoint,
    tables: runtime.tables,
    ...(runtime.poller?.settings.onFailureFile && {
      onFailureFile: runtime.poller.settings.onFailureFile,
    }),
    apiUrls: {
      ...(runtime.decoupledUrl && { decoupled: runtime.decoupledUrl }),
      ...(runtime.coupledUrl && { coupled: runtime.coupledUrl }),
    },
    ...(runtime.identity && {
      identity: { url: runtime.identity.url, audience: runtime.identity.audience },
    }),
    ...(start && { start }),
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
};

/** The running runtime's file, or undefined when there is none (or it cannot be read). */
export const readRuntimeFile = (file = LOCAL_RUNTIME_FILE): LocalRuntimeFile | undefined => {
  if (!existsSync(file)) return undefined;
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalRuntimeFile>;
    return typeof parsed.dynamoDbEndpoint === 'string' ? (parsed as LocalRuntimeFile) : undefined;
  } catch {
    return undefined;
  }
};

export const removeRuntimeFile = (file = LOCAL_RUNTIME_FILE) => rm(file, { force: true });

/** A word for a POSIX shell: as it is when safe, else single-quoted. */
const shellWord = (word: string) =>
  /^[A-Za-z0-9_./:=,@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * The `npm start` command that starts the runtime again as it runs now (same flags, same
 * settings from the environment), serving `serve` (`name=version,...`) instead of what it serves.
 */
export const restartCommand = (start: RuntimeStart | undefined, serve: string): string => {
  const env = Object.entries(start?.env ?? {})
    .filter(([name]) => name !== 'SERVED_PROJECTION_VERSIONS')
    .map(([name, value]) => `${name}=${shellWord(value)} `)
    .join('');
  const args: string[] = [];
  const given = start?.args ?? [];
  for (let i = 0; i < given.length; i++) {
    const arg = given[i]!;
    if (arg === '--serve') i++;
    else if (!arg.startsWith('--serve=')) args.push(arg);
  }
  return `${env}npm start -- ${[...args, '--serve', serve].map(shellWord).join(' ')}`;
};
