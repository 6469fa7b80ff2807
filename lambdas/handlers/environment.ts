/**
 * The environment contract between the CDK stacks (which set these variables together with
 * the grants) and the handlers (which read them once, at cold start, and fail loudly).
 */
export const ENV = {
  eventTable: 'EVENT_TABLE_NAME',
  /** Rows of the declared projections (lambdas/handlers/deployment.ts). */
  projectionsTable: 'PROJECTIONS_TABLE_NAME',
  /** Aggregate snapshots (command functions only). */
  snapshotsTable: 'SNAPSHOTS_TABLE_NAME',
  /** Idempotency markers, written with the events (command functions only). */
  commandsTable: 'COMMANDS_TABLE_NAME',
  /** Take a snapshot every this many events (positive integer); default 100. */
  snapshotEvery: 'SNAPSHOT_EVERY',
  /** Query function: `name=version,...` served when a name has several versions (optional). */
  servedProjectionVersions: 'SERVED_PROJECTION_VERSIONS',
  /** WebSocket subscriptions (connections and notifier functions). */
  subscriptionsTable: 'SUBSCRIPTIONS_TABLE_NAME',
  /** The WebSocket stage's connection-management (callback) URL, for the notifier's posts. */
  websocketManagementEndpoint: 'WEBSOCKET_MANAGEMENT_ENDPOINT',
  /** The token issuer (`iss`): the Cognito user pool's URL, or locally the dev IdP's. */
  tokenIssuer: 'TOKEN_ISSUER',
  /** The token audience (`aud`): the app client id. */
  tokenAudience: 'TOKEN_AUDIENCE',
  /** `true` where commands write their aggregate's view with their events (the coupled stack). */
  writeViewsWithEvents: 'WRITE_VIEWS_WITH_EVENTS',
  /** The EventBridge Scheduler group of process timers (workflows function). */
  timerScheduleGroup: 'TIMER_SCHEDULE_GROUP',
  /** What a timer's schedule invokes: the workflows function's ARN. */
  timerTargetArn: 'TIMER_TARGET_ARN',
  /** The role EventBridge Scheduler assumes to invoke it. */
  timerRoleArn: 'TIMER_ROLE_ARN',
  /** Only set locally (DynamoDB Local); in AWS the SDK finds the regional endpoint. */
  dynamoDbEndpoint: 'DYNAMODB_ENDPOINT',
} as const;

export type Environment = Readonly<Record<string, string | undefined>>;

export const requireEnv = (env: Environment, name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set`);
  return value;
};
