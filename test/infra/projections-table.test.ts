/** The declared projections' storage: one table keyed as PROJECTIONS_TABLE, in each stack. */
import { PROJECTIONS_TABLE } from '../../lambdas/core/shared/schema';
import { ENV } from '../../lambdas/handlers/environment';
import { logicalIdOf, synthesize } from './helpers';

const { decoupled, coupled, decoupledTemplate, coupledTemplate } = synthesize();

describe('projections table', () => {
  const id = logicalIdOf(decoupled.projectionsTable.table, decoupled);
  const table = decoupledTemplate.findResources('AWS::DynamoDB::GlobalTable')[id];

  it('is keyed as PROJECTIONS_TABLE, on demand, its list slots, a stream of new images (push), protected and retained', () => {
    expect(table?.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: PROJECTIONS_TABLE.partitionKey.name, KeyType: 'HASH' }],
    });
    const attributes = [
      PROJECTIONS_TABLE.partitionKey,
      ...PROJECTIONS_TABLE.indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
    ];
    expect(table?.Properties.AttributeDefinitions).toEqual(
      attributes.map(({ name, type }) => ({ AttributeName: name, AttributeType: type })),
    );
    // Two slots holding rows, two holding keys: sparse, shared by every projection's lists.
    expect(
      (table?.Properties.GlobalSecondaryIndexes as { IndexName: string }[]).map((index) => [
        index.IndexName,
        (index as { Projection?: { ProjectionType?: string } }).Projection?.ProjectionType,
      ]),
    ).toEqual([
      ['rows1', 'ALL'],
      ['rows2', 'ALL'],
      ['keys1', 'KEYS_ONLY'],
      ['keys2', 'KEYS_ONLY'],
    ]);
    expect(table?.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    expect(table?.DeletionPolicy).toBe('Retain');
    expect(table?.Properties.Replicas).toEqual([
      expect.objectContaining({
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    ]);
  });

  it('is named to the query, projector, push connections and repair functions only', () => {
    const named = Object.entries(decoupledTemplate.findResources('AWS::Lambda::Function'))
      .filter(([, fn]) => {
        const variables = (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
        return JSON.stringify(variables[ENV.projectionsTable]) === JSON.stringify({ Ref: id });
      })
      .map(([logicalId]) => logicalId.replace(/Handler.*$/, ''));
    // The rebuild function's grant is narrower: see rebuild.test.ts (LeadingKeys). The push
    // connections function reads a row's version for a subscription's acknowledgement.
    expect(named.sort()).toEqual([
      'ProjectorFunction',
      'PushConnectionsFunction',
      'QueryFunction',
      'RebuildFunction',
      'RedriveFunction',
      // Its process records (lambdas/core/workflows/process-runner.ts), and its redrive's.
      'WorkflowsFunction',
      'WorkflowsRedriveFunction',
    ]);
  });

  it('is in the coupled stack too, named to its function (reads, writes the views), its projector, push connections and repair tools only', () => {
    const keyed = Object.values(coupledTemplate.findResources('AWS::DynamoDB::GlobalTable')).filter(
      (t) =>
        JSON.stringify(t.Properties.KeySchema) ===
        JSON.stringify([{ AttributeName: PROJECTIONS_TABLE.partitionKey.name, KeyType: 'HASH' }]),
    );
    expect(keyed).toHaveLength(1);
    const coupledId = logicalIdOf(coupled.projectionsTable.table, coupled);
    const named = Object.entries(coupledTemplate.findResources('AWS::Lambda::Function'))
      .filter(([, fn]) => {
        const variables = (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
        return (
          JSON.stringify(variables[ENV.projectionsTable]) === JSON.stringify({ Ref: coupledId })
        );
      })
      .map(([logicalId]) => logicalId.replace(/Handler.*$/, ''));
    // The repair tools rebuild and re-project the declared projections here too.
    expect(named.sort()).toEqual([
      'CoupledFunction',
      'ProjectorFunction',
      'PushConnectionsFunction',
      'RebuildFunction',
      'RedriveFunction',
      // Its process records (lambdas/core/workflows/process-runner.ts), and its redrive's.
      'WorkflowsFunction',
      'WorkflowsRedriveFunction',
    ]);
  });
});
