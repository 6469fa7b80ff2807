/**
 * The command side's own tables, read and written only by the command functions: aggregate
 * snapshots (SNAPSHOTS_TABLE) and idempotency markers (COMMANDS_TABLE, written in the events'
 * transaction). Keys from lambdas/core/shared/schema.ts; same protection as the other tables.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { COMMANDS_TABLE, SNAPSHOTS_TABLE } from '../../lambdas/core/shared/schema';
import { keySchemaOf, protectionOf } from './table-definition';

export interface CommandTablesProps {
  /**
   * Delete the tables with the stack and turn deletion protection off (test deployments).
   * @default false - RETAIN on stack deletion, deletion protection on
   */
  readonly disposable?: boolean;
}

export class CommandTables extends Construct {
  /** Snapshots: a cache of folded state (losing it costs full reads, never data). */
  readonly snapshots: dynamodb.TableV2;
  /** Idempotency markers: a resent commandId is answered from them, for as long as they live. */
  readonly commands: dynamodb.TableV2;

  constructor(scope: Construct, id: string, props: CommandTablesProps = {}) {
    super(scope, id);
    const protection = protectionOf(props.disposable ?? false);
    this.snapshots = new dynamodb.TableV2(this, 'Snapshots', {
      ...keySchemaOf(SNAPSHOTS_TABLE),
      ...protection,
    });
    this.commands = new dynamodb.TableV2(this, 'Commands', {
      ...keySchemaOf(COMMANDS_TABLE),
      ...protection,
    });
  }
}
