/**
 * `.local-data/local-runtime.json`: written by `npm start` once it is up, removed when it stops.
 * It tells the operator tools (`npm run redrive`, `npm run reproject`) where the running
 * DynamoDB Local is (a free port by default) and which tables each stack uses.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LocalRuntime } from './runtime';

export const LOCAL_RUNTIME_FILE = '.local-data/local-runtime.json';

export interface LocalRuntimeFile {
  readonly pid: number;
  readonly dynamoDbEndpoint: string;
  readonly tables: LocalRuntime['tables'];
  readonly onFailureFile?: string;
}

export const writeRuntimeFile = async (runtime: LocalRuntime, file = LOCAL_RUNTIME_FILE) => {
  const content: LocalRuntimeFile = {
    pid: process.pid,
    dynamoDbEndpoint: runtime.dynamoDbEndpoint,
    tables: runtime.tables,
    ...(runtime.poller?.settings.onFailureFile && {
      onFailureFile: runtime.poller.settings.onFailureFile,
    }),
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(content, null, 2)}\n`);
};

export const removeRuntimeFile = (file = LOCAL_RUNTIME_FILE) => rm(file, { force: true });
