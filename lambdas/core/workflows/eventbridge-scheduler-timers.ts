/**
 * Process timers on EventBridge Scheduler: one one-time schedule per timer (`at(...)`, deleted
 * after it runs) that invokes the workflows function with the timer (`{ processTimer }`).
 * Setting a timer twice is harmless: the schedule's name derives from the timer's id, and a
 * ConflictException means it is already set.
 */
import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import type { ProcessTimer, TimerScheduler } from './process-runner';

export interface SchedulerTimersConfig {
  /** The schedule group the stack created (its schedules are the stack's). */
  readonly groupName: string;
  /** The workflows function's ARN: what a schedule invokes. */
  readonly targetArn: string;
  /** The role EventBridge Scheduler assumes to invoke it. */
  readonly roleArn: string;
}

/** A schedule name (1-64 of A-Z a-z 0-9 - _ .) unique per timer id. */
export const scheduleNameOf = (timerId: string) =>
  `timer-${createHash('sha256').update(timerId).digest('hex').slice(0, 40)}`;

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC, a second at the earliest from now. */
export const atExpression = (dueAt: string, nowMs = Date.now()) =>
  `at(${new Date(Math.max(Date.parse(dueAt), nowMs + 1000)).toISOString().slice(0, 19)})`;

export class SchedulerTimers implements TimerScheduler {
  constructor(
    private readonly client: SchedulerClient,
    private readonly config: SchedulerTimersConfig,
  ) {}

  async schedule(timer: ProcessTimer): Promise<void> {
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: scheduleNameOf(timer.id),
          GroupName: this.config.groupName,
          ScheduleExpression: atExpression(timer.dueAt),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: this.config.targetArn,
            RoleArn: this.config.roleArn,
            Input: JSON.stringify({ processTimer: timer }),
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConflictException) return;
      throw error;
    }
  }
}
