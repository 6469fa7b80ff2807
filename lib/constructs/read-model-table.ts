/**
 * The order read model: one row per order, keyed and indexed as ORDER_VIEW_TABLE says (`id`, and
 * the sparse `byStatus` / `byCustomer` indexes). Same table class and data protection as the
 * event table (see event-table.ts): rebuilding a read model from the events is possible, but
 * not something a `cdk destroy` should force.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { ORDER_VIEW_TABLE, READ_MODEL_STREAM_VIEW } from '../../lambdas/core/schema';
import { keySchemaOf, protectionOf } from './table-definition';

export interface ReadModelTableProps {
  /**
   * Delete the table with the stack and turn deletion protection off (test deployments).
   * @default false - RETAIN on stack deletion, deletion protection on
   */
  readonly disposable?: boolean;
}

export class ReadModelTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ReadModelTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      ...keySchemaOf(ORDER_VIEW_TABLE),
      ...protectionOf(props.disposable ?? false),
      // The notifier's source (live updates), in both stacks.
      dynamoStream: dynamodb.StreamViewType[READ_MODEL_STREAM_VIEW],
    });
  }
}
