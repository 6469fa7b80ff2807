/**
 * Turns a table definition of lambdas/core/shared/schema.ts into TableV2 properties, so the keys and
 * indexes the CDK deploys are the ones the adapters and DynamoDB Local use: no attribute name
 * is written twice. Also the retention policy both tables share.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { KeyAttribute, TableDefinition } from '../../lambdas/core/shared/schema';

const ATTRIBUTE_TYPES: Record<KeyAttribute['type'], dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
};

export const attributeOf = (key: KeyAttribute): dynamodb.Attribute => ({
  name: key.name,
  type: ATTRIBUTE_TYPES[key.type],
});

/** Keys and global secondary indexes (their projection as declared, as `createTableInput` creates them). */
export const keySchemaOf = (
  definition: TableDefinition,
): Pick<dynamodb.TablePropsV2, 'partitionKey' | 'sortKey' | 'globalSecondaryIndexes'> => ({
  partitionKey: attributeOf(definition.partitionKey),
  ...(definition.sortKey && { sortKey: attributeOf(definition.sortKey) }),
  ...(definition.indexes.length > 0 && {
    globalSecondaryIndexes: definition.indexes.map((index) => ({
      indexName: index.indexName,
      partitionKey: attributeOf(index.partitionKey),
      sortKey: attributeOf(index.sortKey),
      projectionType: dynamodb.ProjectionType[index.projection ?? 'ALL'],
    })),
  }),
});

/**
 * The data-protection settings of every table: on-demand billing, AWS-owned encryption at rest,
 * point-in-time recovery (35 days), and, unless `disposable`, RETAIN on stack deletion plus
 * deletion protection, so neither `cdk destroy` nor a console click loses the event log.
 */
export const protectionOf = (
  disposable: boolean,
): Pick<
  dynamodb.TablePropsV2,
  | 'billing'
  | 'encryption'
  | 'pointInTimeRecoverySpecification'
  | 'deletionProtection'
  | 'removalPolicy'
> => ({
  billing: dynamodb.Billing.onDemand(),
  encryption: dynamodb.TableEncryptionV2.dynamoOwnedKey(),
  pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  deletionProtection: !disposable,
  removalPolicy: disposable ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
});
