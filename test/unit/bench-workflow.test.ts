/**
 * The bench's workflow figure (bench/workflow-latency.ts): what a GET of the order says while
 * the fulfilment workflow runs, the figures from the samples, and how the report shows them
 * (only for runs that measured them, so published results of older runs render as before).
 */
import { readPublishedResult } from '../../bench/publish';
import {
  markdownReport,
  markdownSummary,
  ms,
  settingsLines,
  summaryTable,
  terminalReport,
  workflowTable,
} from '../../bench/report';
import type { BenchResult } from '../../bench/results';
import { DEFAULT_SETTINGS, QUICK_SETTINGS } from '../../bench/settings';
import {
  newWorkflowSamples,
  readVerdict,
  stockPerSku,
  WORKFLOW_METHOD,
  type WorkflowFigures,
  workflowFiguresOf,
} from '../../bench/workflow-latency';

const notYet = (latestVersion: number) => ({
  error: { code: 'NOT_FOUND', message: 'no version', details: { latestVersion } },
});

describe('readVerdict (GET /orders/{id}?minVersion=<submitted + 1>)', () => {
  test('given the row confirmed, then the wait is over', () => {
    expect(readVerdict(200, { id: 'o1', status: 'confirmed', version: 6 }, 6)).toEqual({
      kind: 'confirmed',
    });
  });

  test('given the row rejected or in another status, then the order is an error, named', () => {
    expect(readVerdict(200, { status: 'rejected' }, 6)).toEqual({
      kind: 'failed',
      code: 'REJECTED',
    });
    expect(readVerdict(200, { status: 'cancelled' }, 6)).toEqual({
      kind: 'failed',
      code: 'STATUS_CANCELLED',
    });
  });

  test('given a 404 because the log has not reached the version yet, then ask again after a pause', () => {
    expect(readVerdict(404, notYet(5), 6)).toEqual({ kind: 'wait', pause: true });
  });

  test('given a 404 for an unknown order, or one whose log is already past the version, then it failed', () => {
    expect(readVerdict(404, { error: { code: 'NOT_FOUND', message: 'x' } }, 6)).toEqual({
      kind: 'failed',
      code: 'NOT_FOUND',
    });
    expect(readVerdict(404, notYet(6), 6)).toEqual({ kind: 'failed', code: 'NOT_FOUND' });
  });

  test('given the query’s own wait ran out (503 NOT_YET_CONSISTENT), then ask again at once', () => {
    const body = { error: { code: 'NOT_YET_CONSISTENT', message: 'later' } };
    expect(readVerdict(503, body, 6)).toEqual({ kind: 'wait', pause: false });
  });

  test('given any other answer, then it failed with its code or status', () => {
    expect(readVerdict(403, { error: { code: 'FORBIDDEN', message: 'no' } }, 6)).toEqual({
      kind: 'failed',
      code: 'FORBIDDEN',
    });
    expect(readVerdict(502, 'Bad Gateway', 6)).toEqual({ kind: 'failed', code: 'HTTP_502' });
    expect(readVerdict(503, undefined, 6)).toEqual({ kind: 'failed', code: 'HTTP_503' });
  });
});

describe('the sweep’s sizes', () => {
  test('each SKU gets a unit for every order of the run, warm-up included', () => {
    expect(stockPerSku({ orders: 25, warmup: 3, linesPerOrder: 3 })).toBe(28);
  });

  test('the default run measures more orders than --quick, both after a warm-up', () => {
    expect(DEFAULT_SETTINGS.workflow.orders).toBeGreaterThan(QUICK_SETTINGS.workflow.orders);
    expect(QUICK_SETTINGS.workflow.warmup).toBeGreaterThan(0);
    expect(DEFAULT_SETTINGS.workflow.linesPerOrder).toBeGreaterThan(1);
  });
});

describe('workflowFiguresOf', () => {
  test('given confirmed orders and errors, then summaries, counts and GETs per order', () => {
    const samples = newWorkflowSamples();
    samples.confirmed.push(300, 100, 200);
    samples.submitAck.push(12, 10, 11);
    samples.reads.push(3, 1, 2);
    samples.errors.REJECTED = 2;
    const figures = workflowFiguresOf(samples, { streamPollMs: 250 });
    expect(figures).toMatchObject({
      samples: 3,
      errors: 2,
      errorCodes: { REJECTED: 2 },
      readsPerOrder: 2,
      streamPollMs: 250,
    });
    expect(figures.confirmed).toMatchObject({ count: 3, min: 100, p50: 200, p95: 300 });
    expect(figures.submitAck?.p50).toBe(11);
    expect(figures).not.toHaveProperty('setupError');
  });

  test('given nothing measured, then no summaries rather than zeros', () => {
    const figures = workflowFiguresOf(newWorkflowSamples(), { setupError: 'no stock' });
    expect(figures).toMatchObject({
      samples: 0,
      confirmed: null,
      submitAck: null,
      readsPerOrder: null,
      setupError: 'no stock',
    });
    expect(figures).not.toHaveProperty('streamPollMs');
  });
});

describe('the report', () => {
  const published = readPublishedResult();
  const summary = (confirmed: number[]): WorkflowFigures => {
    const samples = newWorkflowSamples();
    samples.confirmed.push(...confirmed);
    samples.submitAck.push(...confirmed.map(() => 9));
    samples.reads.push(...confirmed.map(() => 4));
    return workflowFiguresOf(samples, { streamPollMs: 250 });
  };
  const withWorkflow: BenchResult = {
    ...published,
    settings: {
      ...published.settings,
      workflow: DEFAULT_SETTINGS.workflow,
      method: { ...published.settings.method, workflow: WORKFLOW_METHOD },
    },
    workflow: {
      coupled: summary([310, 320, 330]),
      'decoupled-250ms': summary([610, 620, 690]),
    },
  };

  test('given a run without the workflow sweep, then no workflow table, column or line', () => {
    // As a run with `--workflow-orders 0`, or one from before the workflow, records it.
    const { workflow: _workflow, ...rest } = published;
    const { workflow: _setting, ...settings } = published.settings;
    const without = { ...rest, settings } as BenchResult;
    expect(workflowTable(without)).toBeUndefined();
    expect(summaryTable(without).headers).not.toContain('workflow: submitted → confirmed p50');
    expect(markdownReport(without)).not.toMatch(/submitted → confirmed/);
    expect(terminalReport(without)).not.toMatch(/Workflow/);
  });

  test('given a run with it, then a row per measured profile beside its single-command p50s', () => {
    const table = workflowTable(withWorkflow)!;
    expect(table.rows.map((row) => row[0])).toEqual(['coupled', 'decoupled-250ms']);
    const column = (name: string) => table.headers.indexOf(name);
    const coupled = table.rows[0]!;
    expect(coupled[column('n')]).toBe('3');
    expect(coupled[column('submitted → confirmed p50')]).toBe('320');
    expect(coupled[column('submit ack p50')]).toBe('9.00');
    expect(coupled[column('stream poll ms')]).toBe('250');
    expect(coupled[column('GETs/order')]).toBe('4.0');
    expect(coupled[column('errors')]).toBe('0');
    const ackP50 = withWorkflow.headline.runners.coupled!.ack!.p50;
    expect(coupled[column('1-command ack p50')]).toBe(ms(ackP50));
  });

  test('given a run with it, then the README summary gains its p50 and p95, "–" where unmeasured', () => {
    const table = summaryTable(withWorkflow);
    const p50 = table.headers.indexOf('workflow: submitted → confirmed p50');
    expect(p50).toBeGreaterThan(0);
    expect(table.headers[p50 + 1]).toBe('p95');
    const byProfile = Object.fromEntries(table.rows.map((row) => [row[0], row]));
    expect(byProfile.coupled!.slice(p50, p50 + 2)).toEqual(['320', '330']);
    expect(byProfile['decoupled-250ms']!.slice(p50, p50 + 2)).toEqual(['620', '690']);
    expect(byProfile['decoupled-10ms']!.slice(p50, p50 + 2)).toEqual(['–', '–']);
    expect(markdownSummary(withWorkflow)).toContain('workflow: submitted → confirmed p50');
  });

  test('given a run with it, then latest.md and the terminal show the table and how it was measured', () => {
    expect(markdownReport(withWorkflow)).toContain('#### Workflow: order submitted → confirmed');
    expect(terminalReport(withWorkflow)).toContain('Workflow: order submitted -> confirmed');
    expect(settingsLines(withWorkflow).join('\n')).toContain(
      `Workflow latency: ${DEFAULT_SETTINGS.workflow.orders} orders per profile after ${DEFAULT_SETTINGS.workflow.warmup} unrecorded`,
    );
  });

  test('given a profile whose stock could not be received, then its row says so', () => {
    const failed: BenchResult = {
      ...withWorkflow,
      workflow: {
        coupled: workflowFiguresOf(newWorkflowSamples(), { setupError: 'receiving stock failed' }),
      },
    };
    expect(workflowTable(failed)!.rows[0]!.at(-1)).toBe('not run: receiving stock failed');
  });
});
