/**
 * EventBridge Scheduler's stand-in for process timers: each timer, once set, invokes the
 * workflows handler with `{ processTimer }` when due, as a one-time schedule does; a failed
 * invocation is retried (a second apart, like the schedule's retry policy, up to
 * `maxAttempts`). Setting a pending timer's id again is harmless; once it ran, the id may be set
 * again (as a schedule deleted after completion). Timers live in this process: a restart
 * of the runtime forgets them (docs/local-runtime.md).
 */
import type { ProcessTimer, TimerScheduler } from '../../lambdas/core/workflows/process-runner';
import type { TimerInvocation } from '../../lambdas/handlers/workflows';

export interface LocalSchedulerOptions {
  /**
   * Fire every timer this many ms after it is set, whatever its due time (tests, demos).
   * @default the timer's own due time
   */
  readonly delayMs?: number;
  /** Invocations of one timer before it is dropped (logged). @default 5 */
  readonly maxAttempts?: number;
  readonly retryDelayMs?: number;
  readonly log?: { error(message: string, extra: Record<string, unknown>): void };
}

export interface LocalScheduler extends TimerScheduler {
  /** Where due timers go: the workflows handler (set once it is built). */
  target(invoke: (event: TimerInvocation) => Promise<unknown>): void;
  /** Timers set and not fired yet. */
  pending(): readonly ProcessTimer[];
  stop(): void;
}

export const createLocalScheduler = (options: LocalSchedulerOptions = {}): LocalScheduler => {
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const timers = new Map<string, { timer: ProcessTimer; handle?: NodeJS.Timeout }>();
  const seen = new Set<string>();
  let invoke: ((event: TimerInvocation) => Promise<unknown>) | undefined;
  let stopped = false;

  const fire = async (id: string, attempt: number) => {
    const entry = timers.get(id);
    if (!entry || stopped) return;
    try {
      if (!invoke) throw new Error('no workflows handler to invoke');
      await invoke({ processTimer: entry.timer });
      timers.delete(id);
      // As a one-time schedule, deleted once it ran: the same id may be set again.
      seen.delete(id);
    } catch (error) {
      if (attempt >= maxAttempts || stopped) {
        timers.delete(id);
        seen.delete(id);
        options.log?.error('Timer dropped after its last attempt', {
          timer: id,
          attempts: attempt,
          error: error instanceof Error ? error.message : String(error),
        });
        return;
      }
      entry.handle = setTimeout(() => void fire(id, attempt + 1), retryDelayMs);
    }
  };

  return {
    async schedule(timer) {
      if (stopped || seen.has(timer.id)) return;
      seen.add(timer.id);
      const delay = options.delayMs ?? Math.max(0, Date.parse(timer.dueAt) - Date.now());
      const entry: { timer: ProcessTimer; handle?: NodeJS.Timeout } = { timer };
      timers.set(timer.id, entry);
      // A 15-minute timer must not keep a process that is otherwise done alive.
      entry.handle = setTimeout(() => void fire(timer.id, 1), delay);
      entry.handle.unref();
    },
    target(handler) {
      invoke = handler;
    },
    pending: () => [...timers.values()].map((e) => e.timer),
    stop() {
      stopped = true;
      for (const { handle } of timers.values()) if (handle) clearTimeout(handle);
      timers.clear();
    },
  };
};
