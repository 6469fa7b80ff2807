/**
 * What a projection failure names (lambdas/core/repair/redrive.ts) and how the local redrive settles
 * the on-failure file (local/tools/redrive.ts): repaired entries leave it, failed or unreadable ones
 * go back, a claim left by a crashed run is taken up, and failures recorded meanwhile are kept.
 */
import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  aggregateIdsOf,
  parseFailureMessage,
  sequenceAfter,
} from '../../lambdas/core/repair/redrive';
import type { Reprojector } from '../../lambdas/core/repair/reproject';
import { parseRedriveCli, redriveFile } from '../../local/tools/redrive';

const batchInfo = {
  shardId: 'shardId-1',
  startSequenceNumber: '100',
  endSequenceNumber: '200',
  streamArn: 'arn:aws:dynamodb:eu-west-1:1:table/events/stream/2026',
  batchSize: 2,
};
const record = (aggregateId: string) => ({
  dynamodb: { Keys: { aggregateId: { S: aggregateId }, version: { N: '1' } } },
});
const line = (...ids: string[]) =>
  JSON.stringify({ DDBStreamBatchInfo: batchInfo, records: ids.map(record) });

describe('parseFailureMessage', () => {
  it("reads Lambda's on-failure record, with or without the local records", () => {
    expect(parseFailureMessage(JSON.stringify({ DDBStreamBatchInfo: batchInfo }))).toEqual({
      kind: 'stream-batch',
      batch: batchInfo,
    });
    const parsed = parseFailureMessage(line('a', 'b', 'a'));
    expect(parsed.kind === 'stream-batch' && aggregateIdsOf(parsed.records!)).toEqual(['a', 'b']);
  });

  it('reads a redrive message of aggregate ids; anything else is unreadable, with a reason', () => {
    expect(parseFailureMessage('{"aggregateIds":["x","y","x"]}')).toEqual({
      kind: 'aggregates',
      aggregateIds: ['x', 'y'],
    });
    expect(parseFailureMessage('{"aggregateIds":[]}').kind).toBe('unreadable');
    expect(parseFailureMessage('{"aggregateIds":["x",3]}').kind).toBe('unreadable');
    expect(parseFailureMessage('nope')).toEqual({ kind: 'unreadable', reason: 'not JSON' });
    expect(parseFailureMessage('{"DDBStreamBatchInfo":{}}').kind).toBe('unreadable');
  });

  it('compares sequence numbers as numbers of any length', () => {
    expect(sequenceAfter('1000000000000000000000002', '999999999999999999999999')).toBe(true);
    expect(sequenceAfter('99', '100')).toBe(false);
  });
});

describe('redriveFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'redrive-unit-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Re-projects every id but those in `failing`; records what it was asked. */
  const fakeReprojector = (failing: readonly string[] = []) => {
    const asked: string[] = [];
    const reproject: Reprojector = async (ids, onResult) => {
      const results = [...ids].map((aggregateId) =>
        failing.includes(aggregateId)
          ? { aggregateId, status: 'failed' as const, error: 'still broken' }
          : { aggregateId, status: 'reprojected' as const, version: 1 },
      );
      asked.push(...[...ids]);
      results.forEach((r) => onResult?.(r));
      return results;
    };
    return { reproject, asked };
  };

  it('removes repaired entries and puts back failed and unreadable ones', async () => {
    const file = join(dir, 'failed.jsonl');
    writeFileSync(
      file,
      [line('a', 'b'), line('c'), 'garbage', '{"aggregateIds":["d"]}', ''].join('\n'),
    );
    const { reproject, asked } = fakeReprojector(['c']);
    const summary = await redriveFile(file, reproject);
    expect(asked.sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(summary).toMatchObject({ entries: 4, repaired: 2, keptBack: 2 });
    expect(readFileSync(file, 'utf8')).toBe(`${line('c')}\ngarbage\n`);
    expect(readdirSync(dir)).toEqual(['failed.jsonl']);
  });

  it("takes up a crashed run's claim, and keeps failures recorded while it runs", async () => {
    const file = join(dir, 'failed.jsonl');
    writeFileSync(`${file}.redriving-1`, `${line('old')}\n`);
    writeFileSync(file, `${line('new')}\n`);
    const reproject: Reprojector = async (ids, onResult) => {
      // The poller appends a failure while the redrive runs: it lands in a new file.
      appendFileSync(file, `${line('meanwhile')}\n`);
      return fakeReprojector().reproject(ids, onResult);
    };
    const summary = await redriveFile(file, reproject);
    expect(summary).toMatchObject({ entries: 2, repaired: 2, keptBack: 0 });
    expect(summary.results.map((r) => r.aggregateId).sort()).toEqual(['new', 'old']);
    expect(readFileSync(file, 'utf8')).toBe(`${line('meanwhile')}\n`);
    expect(readdirSync(dir)).toEqual(['failed.jsonl']);
  });

  it('an absent file is nothing to redrive', async () => {
    const summary = await redriveFile(join(dir, 'none.jsonl'), fakeReprojector().reproject);
    expect(summary).toMatchObject({ entries: 0, repaired: 0, keptBack: 0 });
  });
});

describe('parseRedriveCli', () => {
  it('has sensible defaults and checks its flags', () => {
    expect(parseRedriveCli(['redrive'])).toMatchObject({
      help: false,
      options: { mode: 'redrive', file: '.local-data/failed-records.jsonl', concurrency: 8 },
    });
    expect(() => parseRedriveCli(['redrive', '--concurrency', '0'])).toThrow(/1 to 64/);
    expect(() => parseRedriveCli(['reproject', 'a', '--event-table', 'e'])).toThrow(/together/);
    expect(() => parseRedriveCli(['redrive', '--bogus'])).toThrow(/bogus/);
    expect(parseRedriveCli(['reproject', '--help'])).toEqual({ help: true });
  });
});
