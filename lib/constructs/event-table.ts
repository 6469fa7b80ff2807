/**
 * The event log: one item per event, keyed as EVENT_TABLE says (aggregateId, version).
 *
 * Built on `TableV2` (CloudFormation `AWS::DynamoDB::GlobalTable` with one replica) rather than
 * `Table`, because:
 * - its stream grant scopes `dynamodb:ListStreams` to the stream ARN, where `Table` grants it on
 *   `*` (the projector's role would carry a wildcard resource);
 * - it is the table construct AWS recommends for new code.
 * Do NOT add a replica Region: eventually consistent global tables resolve concurrent writes
 * last-writer-wins, so two Regions can both pass `attribute_not_exists(version)` and one event
 * silently replaces the other. The strongly consistent multi-Region mode is unverified here (see
 * the README, "Limits a demanding user should know").
 * The trade-off: cdk-nag's PITR rule (AwsSolutions-DDB3) only inspects `AWS::DynamoDB::Table`,
 * so point-in-time recovery is asserted by our own template tests (test/infra).
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { EVENT_STREAM_VIEW, EVENT_TABLE } from '../../lambdas/core/shared/schema';
import { keySchemaOf, protectionOf } from './table-definition';

export interface EventTableProps {
  /**
   * Enable the DynamoDB stream the projector reads (view EVENT_STREAM_VIEW, NEW_IMAGE). Only
   * the decoupled stack needs it; the coupled stack writes its read model in the same
   * transaction as the events.
   * @default false
   */
  readonly stream?: boolean;
  /**
   * Delete the table with the stack and turn deletion protection off (test deployments).
   * @default false - RETAIN on stack deletion, deletion protection on
   */
  readonly disposable?: boolean;
}

export class EventTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: EventTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      ...keySchemaOf(EVENT_TABLE),
      ...protectionOf(props.disposable ?? false),
      ...(props.stream && { dynamoStream: dynamodb.StreamViewType[EVENT_STREAM_VIEW] }),
    });
  }
}
