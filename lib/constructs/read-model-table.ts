/**
 * The one-row-per-aggregate read model (the order row): keyed and indexed as its declaration
 * says (AGGREGATE_VIEW in lambdas/handlers/deployment.ts: `id`, and its sparse list indexes). Same table class and data protection as the
 * event table (see event-table.ts): rebuilding a read model from the events is possible, but
 * not something a `cdk destroy` should force.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { viewTableOf } from '../../lambdas/core/projections/projection';
import { READ_MODEL_STREAM_VIEW } from '../../lambdas/core/shared/schema';
import { AGGREGATE_VIEW } from '../../lambdas/handlers/deployment';
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
      ...keySchemaOf(viewTableOf(AGGREGATE_VIEW)),
      ...protectionOf(props.disposable ?? false),
      // The notifier's source (live updates), in both stacks.
      dynamoStream: dynamodb.StreamViewType[READ_MODEL_STREAM_VIEW],
    });
  }
}
