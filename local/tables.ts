/** Creates a stack's tables on DynamoDB Local from the same definitions the CDK constructs use. */
import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { createTableInput, EVENT_TABLE, ORDER_VIEW_TABLE } from '../lambdas/core/schema';

export interface StackTables {
  readonly eventTable: string;
  readonly readModelTable: string;
}

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
  await create([ORDER_VIEW_TABLE, tables.readModelTable]);
  const described = await client.send(new DescribeTableCommand({ TableName: tables.eventTable }));
  return { eventStreamArn: described.Table?.LatestStreamArn };
};
