import { Match, type Template } from 'aws-cdk-lib/assertions';
import {
  EVENT_STREAM_VIEW,
  EVENT_TABLE,
  PROJECTIONS_TABLE,
  READ_MODEL_STREAM_VIEW,
  type KeyAttribute,
} from '../../lambdas/core/shared/schema';
import { logicalIdOf, synthesize } from './helpers';

const byDefault = synthesize();
const disposable = synthesize({ disposable: 'true' });

const keySchema = (pk: KeyAttribute, sk?: KeyAttribute) => [
  { AttributeName: pk.name, KeyType: 'HASH' },
  ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' }] : []),
];

// Expected values come from lambdas/core/shared/schema.ts, never from attribute names written here.
const eventTableKeys = {
  KeySchema: keySchema(EVENT_TABLE.partitionKey, EVENT_TABLE.sortKey),
  AttributeDefinitions: Match.arrayEquals(
    [EVENT_TABLE.partitionKey, EVENT_TABLE.sortKey].map((a) => ({
      AttributeName: a.name,
      AttributeType: a.type,
    })),
  ),
};
const projectionsAttributes = [
  PROJECTIONS_TABLE.partitionKey,
  ...PROJECTIONS_TABLE.indexes.flatMap((i) => [i.partitionKey, i.sortKey]),
];
const projectionsKeys = {
  KeySchema: keySchema(PROJECTIONS_TABLE.partitionKey),
  AttributeDefinitions: Match.arrayEquals(
    projectionsAttributes.map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
  ),
  GlobalSecondaryIndexes: PROJECTIONS_TABLE.indexes.map((index) => ({
    IndexName: index.indexName,
    KeySchema: keySchema(index.partitionKey, index.sortKey),
    Projection: { ProjectionType: index.projection },
  })),
};

const tableResource = (template: Template, logicalId: string) => {
  const table = template.findResources('AWS::DynamoDB::GlobalTable')[logicalId];
  if (!table) throw new Error(`No table ${logicalId}`);
  return table;
};

describe.each([
  ['decoupled', byDefault.decoupledTemplate, byDefault.decoupled],
  ['coupled', byDefault.coupledTemplate, byDefault.coupled],
] as const)('%s stack tables', (_name, template, stack) => {
  const eventTableId = logicalIdOf(stack.eventTable.table, stack);
  const projectionsId = logicalIdOf(stack.projectionsTable.table, stack);

  it('has exactly the event table, the subscriptions table, the projections table, snapshots, command markers and the sample consumer idempotency records', () => {
    // No read-model table: every view, the orders' too, is rows of the projections table.
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 6);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
  });

  it('keys the event table as EVENT_TABLE, on demand, with no index', () => {
    const table = tableResource(template, eventTableId);
    expect(table.Properties).toMatchObject({ BillingMode: 'PAY_PER_REQUEST' });
    expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      ...eventTableKeys,
      BillingMode: 'PAY_PER_REQUEST',
    });
  });

  it('keys and indexes the projections table as PROJECTIONS_TABLE (sparse list slots: rows ALL, keys KEYS_ONLY)', () => {
    const table = tableResource(template, projectionsId);
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: projectionsKeys.KeySchema,
      GlobalSecondaryIndexes: projectionsKeys.GlobalSecondaryIndexes,
    });
    expect(table.Properties.GlobalSecondaryIndexes).toHaveLength(4);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', projectionsKeys);
  });

  it.each([
    ['event', eventTableId],
    ['projections', projectionsId],
  ])(
    '%s table: PITR on, deletion protection on, retained on stack deletion',
    (_table, logicalId) => {
      const table = tableResource(template, logicalId);
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.UpdateReplacePolicy).toBe('Retain');
      expect(table.Properties.Replicas).toEqual([
        expect.objectContaining({
          Region: { Ref: 'AWS::Region' },
          DeletionProtectionEnabled: true,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ]);
    },
  );
});

it(`streams the event table (${EVENT_STREAM_VIEW}) and the projections table in both stacks`, () => {
  const decoupled = tableResource(
    byDefault.decoupledTemplate,
    logicalIdOf(byDefault.decoupled.eventTable.table, byDefault.decoupled),
  );
  expect(decoupled.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
  const coupledEvents = tableResource(
    byDefault.coupledTemplate,
    logicalIdOf(byDefault.coupled.eventTable.table, byDefault.coupled),
  );
  // The coupled stack's projector reads it too.
  expect(coupledEvents.Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
  for (const stack of [byDefault.decoupled, byDefault.coupled]) {
    const template =
      stack === byDefault.decoupled ? byDefault.decoupledTemplate : byDefault.coupledTemplate;
    const projections = tableResource(template, logicalIdOf(stack.projectionsTable.table, stack));
    // The notifier's source (live updates).
    expect(projections.Properties.StreamSpecification).toEqual({
      StreamViewType: READ_MODEL_STREAM_VIEW,
    });
  }
});

describe('-c disposable=true', () => {
  it.each([
    ['decoupled', disposable.decoupledTemplate],
    ['coupled', disposable.coupledTemplate],
  ])('%s: tables are deleted with the stack, unprotected, PITR still on', (_name, template) => {
    // Event, projections, snapshots, markers; subscriptions are ephemeral (push.test.ts).
    const tables = Object.values(template.findResources('AWS::DynamoDB::GlobalTable')).filter(
      (t) => t.Properties.TimeToLiveSpecification === undefined,
    );
    expect(tables).toHaveLength(4);
    for (const table of tables) {
      expect(table.DeletionPolicy).toBe('Delete');
      expect(table.Properties.Replicas).toEqual([
        expect.objectContaining({
          DeletionProtectionEnabled: false,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      ]);
    }
  });

  it.each([
    ['decoupled', disposable.decoupledTemplate, byDefault.decoupledTemplate],
    ['coupled', disposable.coupledTemplate, byDefault.coupledTemplate],
  ])('%s: log groups are deleted too (retained by default)', (_name, flagged, standard) => {
    const policies = (template: Template) =>
      Object.values(template.findResources('AWS::Logs::LogGroup')).map((g) => g.DeletionPolicy);
    expect(policies(flagged).length).toBeGreaterThan(0);
    expect(new Set(policies(flagged))).toEqual(new Set(['Delete']));
    expect(new Set(policies(standard))).toEqual(new Set(['Retain']));
  });
});
