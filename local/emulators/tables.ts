/** Creates a stack's tables on DynamoDB Local from the same definitions the CDK constructs use. */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  COMMANDS_TABLE,
  createTableInput,
  EVENT_TABLE,
  PROJECTIONS_TABLE,
  READ_MODEL_STREAM_VIEW,
  SNAPSHOTS_TABLE,
  SUBSCRIPTION_TTL_ATTRIBUTE,
  SUBSCRIPTIONS_TABLE,
} from '../../lambdas/core/shared/schema';
import { ENV } from '../../lambdas/handlers/environment';

export interface StackTables {
  readonly eventTable: string;
  /** The declared projections' rows (PROJECTIONS_TABLE): every view and read model. */
  readonly projectionsTable: string;
  /** Aggregate snapshots (SNAPSHOTS_TABLE), read and written by the command functions. */
  readonly snapshotsTable?: string;
  /** Idempotency markers (COMMANDS_TABLE), written with the events. */
  readonly commandsTable?: string;
}

/**
 * A function's environment for these tables on a local DynamoDB: each table's variable (the
 * optional ones only when the stack has them), the endpoint and the local region. The local
 * runtime adds its settings on top; the probes use it as is.
 */
export const localFunctionEnv = (tables: StackTables, endpoint: string) => ({
  [ENV.eventTable]: tables.eventTable,
  [ENV.projectionsTable]: tables.projectionsTable,
  ...(tables.snapshotsTable && { [ENV.snapshotsTable]: tables.snapshotsTable }),
  ...(tables.commandsTable && { [ENV.commandsTable]: tables.commandsTable }),
  [ENV.dynamoDbEndpoint]: endpoint,
  AWS_REGION: 'local',
});

/** Creates the tables if they do not exist yet (a `--data-dir` keeps them across restarts). */
export const ensureTables = async (
  client: DynamoDBClient,
  tables: StackTables,
  options: { stream: boolean },
): Promise<{ eventStreamArn?: string }> => {
  const create = async (input: Parameters<typeof createTableInput>) => {
    try {
      await client.send(new CreateTableCommand(createTableInput(...input)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  };
  await create([EVENT_TABLE, tables.eventTable, { stream: options.stream }]);
  await create([PROJECTIONS_TABLE, tables.projectionsTable]);
  await ensureListSlots(client, tables.projectionsTable);
  if (tables.snapshotsTable) await create([SNAPSHOTS_TABLE, tables.snapshotsTable]);
  if (tables.commandsTable) await create([COMMANDS_TABLE, tables.commandsTable]);
  const described = await client.send(new DescribeTableCommand({ TableName: tables.eventTable }));
  return { eventStreamArn: described.Table?.LatestStreamArn };
};

/**
 * The push tables of a stack: the subscriptions table (SUBSCRIPTIONS_TABLE, with its TTL
 * attribute) and a stream on the table pushed views are stored in (the projections table),
 * added to a table created before push existed (a `--data-dir` from an older version). Answers
 * its stream ARN.
 */
export const ensurePushTables = async (
  client: DynamoDBClient,
  tables: { readonly projectionsTable: string; readonly subscriptionsTable: string },
): Promise<{ readonly viewStreamArns: readonly string[] }> => {
  try {
    await client.send(
      new CreateTableCommand(createTableInput(SUBSCRIPTIONS_TABLE, tables.subscriptionsTable)),
    );
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tables.subscriptionsTable,
        TimeToLiveSpecification: { Enabled: true, AttributeName: SUBSCRIPTION_TTL_ATTRIBUTE },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  return {
    viewStreamArns: [await ensureViewStream(client, tables.projectionsTable)],
  };
};

/**
 * Turns on the stream of a table of views (push reads it) unless it is on; answers its ARN.
 * The bench's floor tables get it too: DynamoDB Local records stream records within the write,
 * so a table with a stream costs more per write than one without.
 */
export const ensureViewStream = async (
  client: DynamoDBClient,
  viewTable: string,
): Promise<string> => {
  const describe = () => client.send(new DescribeTableCommand({ TableName: viewTable }));
  let table = (await describe()).Table;
  if (!table?.StreamSpecification?.StreamEnabled) {
    await client.send(
      new UpdateTableCommand({
        TableName: viewTable,
        StreamSpecification: { StreamEnabled: true, StreamViewType: READ_MODEL_STREAM_VIEW },
      }),
    );
    table = (await describe()).Table;
  }
  if (!table?.LatestStreamArn) throw new Error(`${viewTable} has no stream`);
  return table.LatestStreamArn;
};

/** Longest wait for the indexes being built to become ACTIVE before the next one is asked for. */
const INDEX_ACTIVE_TIMEOUT_MS = 120_000;

/**
 * Adds the list slots (PROJECTIONS_TABLE's indexes) a projections table created before lists
 * existed lacks (a `--data-dir` from an older version). DynamoDB builds one index at a time (it
 * refuses another while one is CREATING), so each is asked for once the table's indexes are all
 * ACTIVE; the last one is left building (a list is served once it is). Rows written before are
 * listed once written again (a rebuild of a new version).
 */
export const ensureListSlots = async (client: DynamoDBClient, projectionsTable: string) => {
  const indexes = async () =>
    (await client.send(new DescribeTableCommand({ TableName: projectionsTable }))).Table
      ?.GlobalSecondaryIndexes ?? [];
  const allActive = async () => {
    const started = Date.now();
    while ((await indexes()).some((index) => index.IndexStatus !== 'ACTIVE')) {
      if (Date.now() - started > INDEX_ACTIVE_TIMEOUT_MS) {
        throw new Error(`${projectionsTable}: an index is still being built after 120 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const present = new Set((await indexes()).map((index) => index.IndexName));
  const wanted = createTableInput(PROJECTIONS_TABLE, projectionsTable);
  for (const index of wanted.GlobalSecondaryIndexes ?? []) {
    if (present.has(index.IndexName)) continue;
    await allActive();
    const keys = new Set(index.KeySchema?.map((key) => key.AttributeName));
    await client.send(
      new UpdateTableCommand({
        TableName: projectionsTable,
        AttributeDefinitions: wanted.AttributeDefinitions?.filter((a) => keys.has(a.AttributeName)),
        GlobalSecondaryIndexUpdates: [
          {
            Create: {
              IndexName: index.IndexName,
              KeySchema: index.KeySchema,
              Projection: index.Projection,
            },
          },
        ],
      }),
    );
  }
};
