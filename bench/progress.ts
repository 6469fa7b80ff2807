/**
 * Progress on stderr: a bar (cli-progress) on a terminal, else one line per phase, so logs of
 * CI runs and of the integration test stay readable.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';

export interface Progress {
  /** Starts a phase (its name shows next to the bar). */
  phase(name: string): void;
  tick(count?: number): void;
  /** A line that does not break the bar. */
  log(line: string): void;
  stop(): void;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export const createProgress = (
  total: number,
  stream: NodeJS.WriteStream = process.stderr,
): Progress => {
  const started = performance.now();
  if (!stream.isTTY) {
    let current: { name: string; at: number; ticks: number } | undefined;
    const finish = () => {
      if (current) {
        stream.write(
          `[bench] ${current.name}: ${current.ticks} commands in ${seconds(performance.now() - current.at)}\n`,
        );
      }
    };
    return {
      phase(name) {
        finish();
        current = { name, at: performance.now(), ticks: 0 };
        stream.write(`[bench] ${name} (at ${seconds(performance.now() - started)})\n`);
      },
      tick(count = 1) {
        if (current) current.ticks += count;
      },
      log(line) {
        stream.write(`${line}\n`);
      },
      stop() {
        finish();
        current = undefined;
      },
    };
  }
  const multi = new MultiBar(
    {
      stream,
      format: ' {bar} {percentage}% | {value}/{total} commands | {duration_formatted} | {phase}',
      hideCursor: true,
      clearOnComplete: false,
      fps: 5,
    },
    Presets.shades_classic,
  );
  const bar: SingleBar = multi.create(total, 0, { phase: 'starting' });
  let stopped = false;
  return {
    phase(name) {
      bar.update({ phase: name });
    },
    tick(count = 1) {
      bar.increment(count);
    },
    log(line) {
      multi.log(`${line}\n`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multi.stop();
    },
  };
};
