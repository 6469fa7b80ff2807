/**
 * The command side's tables (snapshots, idempotency markers): keyed as lambdas/core/shared/schema.ts says,
 * protected like the event log, in both stacks, named to and granted to the command functions
 * only; the snapshot interval comes from `-c snapshotEvery`.
 */
import {
  COMMANDS_TABLE,
  SNAPSHOTS_TABLE,
  type TableDefinition,
} from '../../lambdas/core/shared/schema';
import { ENV } from '../../lambdas/handlers/environment';
import { type AppStack, logicalIdOf, permissionsOf, synthesize } from './helpers';

const byDefault = synthesize();
const every250 = synthesize({ snapshotEvery: '250' });

const keyed = (definition: TableDefinition) => ({
  KeySchema: [
    { AttributeName: definition.partitionKey.name, KeyType: 'HASH' },
    { AttributeName: definition.sortKey!.name, KeyType: 'RANGE' },
  ],
});

describe.each([
  ['decoupled', byDefault.decoupledTemplate, byDefault.decoupled as AppStack, 'CommandFunction'],
  ['coupled', byDefault.coupledTemplate, byDefault.coupled as AppStack, 'CoupledFunction'],
] as const)('%s stack', (_name, template, stack, commandFunction) => {
  const tables = template.findResources('AWS::DynamoDB::GlobalTable');
  const snapshotsId = logicalIdOf(stack.commandTables.snapshots, stack);
  const commandsId = logicalIdOf(stack.commandTables.commands, stack);

  it.each([
    ['snapshots', snapshotsId, SNAPSHOTS_TABLE],
    ['markers', commandsId, COMMANDS_TABLE],
  ] as const)(
    '%s table: keyed from schema.ts, on demand, protected and retained',
    (_t, id, def) => {
      const table = tables[id];
      expect(table?.Properties).toMatchObject({ BillingMode: 'PAY_PER_REQUEST', ...keyed(def) });
      expect(table?.Properties.StreamSpecification).toBeUndefined();
      expect(table?.DeletionPolicy).toBe('Retain');
      expect(table?.Properties.Replicas).toEqual([
        expect.objectContaining({
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ]);
    },
  );

  it('only the command functions (the API one, the workflows one and its redrive) are named them and may touch them', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const named = Object.entries(functions)
      .filter(([, fn]) => {
        const variables = (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
        return (
          JSON.stringify(variables[ENV.snapshotsTable]) === JSON.stringify({ Ref: snapshotsId }) &&
          JSON.stringify(variables[ENV.commandsTable]) === JSON.stringify({ Ref: commandsId })
        );
      })
      .map(([id]) => id.replace(/Handler.*$/, ''));
    // The process managers' commands run through the same command runner
    // (lib/constructs/workflows.ts), and so do those its redrive re-runs.
    const senders = [commandFunction, 'WorkflowsFunction', 'WorkflowsRedriveFunction'];
    expect(named.sort()).toEqual(senders.sort());
    for (const id of Object.keys(functions)) {
      const touching = permissionsOf(template, id).permissions.filter(
        (p) => p.includes(`<${snapshotsId}.`) || p.includes(`<${commandsId}.`),
      );
      if (senders.some((sender) => id.startsWith(sender))) {
        expect(touching.sort()).toEqual(
          [
            `dynamodb:GetItem <${commandsId}.Arn>`,
            `dynamodb:GetItem <${snapshotsId}.Arn>`,
            `dynamodb:PutItem <${commandsId}.Arn>`,
            `dynamodb:PutItem <${snapshotsId}.Arn>`,
          ].sort(),
        );
      } else {
        expect(touching).toEqual([]);
      }
    }
  });

  it('SNAPSHOT_EVERY is 100 by default', () => {
    const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith(commandFunction),
    )![1];
    expect(fn.Properties.Environment.Variables[ENV.snapshotEvery]).toBe('100');
  });
});

it('-c snapshotEvery=250 reaches both command functions', () => {
  for (const [template, prefix] of [
    [every250.decoupledTemplate, 'CommandFunction'],
    [every250.coupledTemplate, 'CoupledFunction'],
  ] as const) {
    const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith(prefix),
    )![1];
    expect(fn.Properties.Environment.Variables[ENV.snapshotEvery]).toBe('250');
  }
});
