/**
 * The declared projections' rows (lambdas/handlers/deployment.ts): one table for every
 * projection and version, keyed as PROJECTIONS_TABLE says (`<name>@v<version>#<rowKey>`), so
 * adding a projection or a new version of one deploys no new table. Same protection as the other
 * tables (table-definition.ts).
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { PROJECTIONS_TABLE, READ_MODEL_STREAM_VIEW } from '../../lambdas/core/shared/schema';
import { keySchemaOf, protectionOf } from './table-definition';

export interface ProjectionsTableProps {
  /**
   * Delete the table with the stack and turn deletion protection off (test deployments).
   * @default false - RETAIN on stack deletion, deletion protection on
   */
  readonly disposable?: boolean;
}

export class ProjectionsTable extends Construct {
  readonly table: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: ProjectionsTableProps = {}) {
    super(scope, id);
    this.table = new dynamodb.TableV2(this, 'Table', {
      ...keySchemaOf(PROJECTIONS_TABLE),
      ...protectionOf(props.disposable ?? false),
      // The notifier's source: every collection's view is a row of a declared projection.
      dynamoStream: dynamodb.StreamViewType[READ_MODEL_STREAM_VIEW],
    });
  }
}
