/**
 * `npm run events`: prints the domain events the local event bus delivered (its JSON-lines log,
 * local/emulators/event-bus.ts), one JSON event per line as EventBridge delivers it to a rule's
 * target (the envelope is its `detail`), so `| jq` works. `--follow` keeps printing them as they
 * arrive, until Ctrl-C; it waits for the log to appear and starts over when `npm start` restarts
 * (the log is emptied at each start).
 *
 * Exit status: 0; 1 when there is no log to print (without --follow); 2 for bad input.
 */
import { existsSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';

/** Where `npm start` has the local event bus write its log (local/emulators/event-bus.ts). */
export const DEFAULT_EVENT_LOG_FILE = '.local-data/events.jsonl';

export const USAGE = `Usage: npm run -s events -- [options]

Prints the domain events of both local stacks, one JSON event per line, as each stack's
EventBridge bus delivers them to a rule's target; the envelope (docs/reference/event-bus.md) is
the \`detail\` of each:

  npm run -s events -- --follow
  npm run -s events -- --detail | jq 'select(.aggregateId == "<id>")'

  --follow, -f      keep printing events as they arrive (Ctrl-C stops)
  --detail          print each event's envelope only
  --file <file>     the event log npm start writes   (default ${DEFAULT_EVENT_LOG_FILE})
  --help            this text
`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Nothing to print: no log where it was looked for. */
export class NoEventLogError extends Error {
  override readonly name = 'NoEventLogError';
}

export interface EventsCliOptions {
  readonly follow: boolean;
  readonly detail: boolean;
  readonly file: string;
}

export const parseEventsCli = (
  argv: readonly string[],
): { help: true } | { help: false; options: EventsCliOptions } => {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        follow: { type: 'boolean', short: 'f' },
        detail: { type: 'boolean' },
        file: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { help: true };
  return {
    help: false,
    options: {
      follow: values.follow ?? false,
      detail: values.detail ?? false,
      file: values.file ?? DEFAULT_EVENT_LOG_FILE,
    },
  };
};

/** How often --follow looks at the log (a file that grows; fs.watch misses appends on some systems). */
const FOLLOW_INTERVAL_MS = 200;

/** A log line as printed: the event, or its envelope alone; undefined for a line that is no event. */
export const printable = (line: string, detail: boolean): string | undefined => {
  try {
    const event = JSON.parse(line) as { detail?: unknown };
    if (typeof event !== 'object' || event === null || event.detail === undefined) return undefined;
    return JSON.stringify(detail ? event.detail : event);
  } catch {
    return undefined;
  }
};

/**
 * Reads the log from `offset`: the complete lines after it, and where the next read starts. A
 * log shorter than `offset` was emptied by a restart: it is read from its start.
 */
const readFrom = async (
  file: string,
  offset: number,
): Promise<{ lines: string[]; next: number; restarted: boolean }> => {
  const { size } = await stat(file);
  const restarted = size < offset;
  const start = restarted ? 0 : offset;
  if (size === start) return { lines: [], next: start, restarted };
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    const text = buffer.toString('utf8');
    // A line being written is left for the next read.
    const end = text.lastIndexOf('\n') + 1;
    return {
      lines: text.slice(0, end).split('\n').filter(Boolean),
      next: start + Buffer.byteLength(text.slice(0, end)),
      restarted,
    };
  } finally {
    await handle.close();
  }
};

/** Prints the log (and, with --follow, what is appended) until `signal` aborts. */
export const printEvents = async (
  options: EventsCliOptions,
  out: (line: string) => void,
  err: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> => {
  let offset = 0;
  let waiting = false;
  for (;;) {
    if (existsSync(options.file)) {
      waiting = false;
      const { lines, next, restarted } = await readFrom(options.file, offset);
      if (restarted) err(`(${options.file} started over: npm start was restarted)`);
      for (const line of lines) {
        const shown = printable(line, options.detail);
        if (shown === undefined) err(`(skipped a line that is no event: ${line.slice(0, 80)})`);
        else out(shown);
      }
      offset = next;
    } else if (!options.follow) {
      throw new NoEventLogError(
        `no event log at ${options.file}: start the local runtime with npm start (or pass --file)`,
      );
    } else if (!waiting) {
      waiting = true;
      err(`(waiting for ${options.file}: start the local runtime with npm start)`);
    }
    if (!options.follow || signal?.aborted) return;
    await new Promise((resolve) => setTimeout(resolve, FOLLOW_INTERVAL_MS));
    if (signal?.aborted) return;
  }
};

const main = async () => {
  let parsed;
  try {
    parsed = parseEventsCli(process.argv.slice(2));
  } catch (error) {
    console.error(
      `error: ${(error as Error).message}\n(npm run events -- --help lists the options)`,
    );
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return;
  }
  const stopping = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => stopping.abort());
  }
  try {
    await printEvents(
      parsed.options,
      (line) => process.stdout.write(`${line}\n`),
      (line) => process.stderr.write(`${line}\n`),
      stopping.signal,
    );
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
};

if (require.main === module) void main();
