import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * A client that passes every call on to `doc` and names it in `calls`, for tests that assert
 * what a command sends: a Query as `<table>: newest <n>` (newest first) or `<table>: after <v>`
 * (`<table>: after <from>..<to>` for a range), anything else as `<table>: <Operation>` (just
 * `<Operation>` without a table: a transaction). `names` gives tables short names.
 */
export const namedCallsClient = (doc: DynamoDBDocumentClient, names: Record<string, string>) => {
  const calls: string[] = [];
  const client = {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const { input } = command;
      const operation = command.constructor.name.replace(/Command$/, '');
      const table = names[input.TableName as string] ?? (input.TableName as string | undefined);
      const condition =
        typeof input.KeyConditionExpression === 'string' ? input.KeyConditionExpression : '';
      if (operation === 'Query' && input.ScanIndexForward === false) {
        calls.push(`${table}: newest ${String(input.Limit)}`);
      } else if (operation === 'Query' && condition.includes('#sk')) {
        // The event store sends low-level values ({ N: '3' }), the bench's floor plain numbers.
        const value = (key: string) => {
          const v = (input.ExpressionAttributeValues as Record<string, unknown>)[key];
          return typeof v === 'object' && v !== null ? (v as { N?: string }).N : v;
        };
        const range = condition.includes('BETWEEN');
        calls.push(
          `${table}: after ${String(range ? `${value(':from')}..${value(':to')}` : value(':after'))}`,
        );
      } else calls.push(table === undefined ? operation : `${table}: ${operation}`);
      return doc.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls };
};

/** The reads among named calls: the events' Queries and the GetItems. */
export const readsOf = (calls: readonly string[]) =>
  calls.filter((call) => /: (newest|after|Get)\b/.test(call));
