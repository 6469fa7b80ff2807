/**
 * Deployment options, read from CDK context (`-c name=value` or `cdk.json`), validated once.
 * Every stack receives the same parsed options, so a flag cannot mean one thing here and
 * another there. Documented for users in docs/operations/deploying.md.
 */
import type { Construct } from 'constructs';
import { describeVersions, servedProjections } from '../lambdas/core/projections/served-versions';
import { DEFAULT_SNAPSHOT_EVERY } from '../lambdas/core/command/snapshots';
import { DEFAULT_CORS_ORIGINS, parseCorsOrigins } from '../lambdas/handlers/cors';
import { PROJECTIONS } from '../lambdas/handlers/deployment';

/** API Gateway stage throttling (token bucket): steady requests per second and burst. */
export interface ThrottleOptions {
  readonly rateLimit: number;
  readonly burstLimit: number;
}

export interface DeploymentOptions {
  /**
   * `-c disposable=true`: tables and log groups are deleted with the stack and table deletion
   * protection is off. For test and benchmark deployments. Default: tables and log groups are
   * retained on stack deletion and tables are deletion-protected.
   */
  readonly disposable: boolean;
  /** `-c tracing=true`: X-Ray active tracing on every function. Default: off. */
  readonly tracing: boolean;
  /**
   * `-c throttleRate=N -c throttleBurst=N`: default stage throttling (requests per second, and
   * a whole number of requests for the burst). Default: 100 / 200.
   */
  readonly throttle: ThrottleOptions;
  /**
   * `-c corsOrigins=https://app.example.com,http://localhost:3000`: the origins whose pages may
   * call the API from a browser (CORS). Default: the local demo app's origins only
   * (DEFAULT_CORS_ORIGINS); `*` allows any page.
   */
  readonly corsOrigins: readonly string[];
  /**
   * `-c servedProjectionVersions=customer-summary=2`: which version of a declared projection the
   * query route serves when the deployment lists several (SERVED_PROJECTION_VERSIONS). Default:
   * the lowest listed version of each name. Switching and rolling back is a redeploy of this.
   */
  readonly servedProjectionVersions?: string;
  /**
   * `-c snapshotEvery=N`: a command saves its aggregate's state once N events lie past the last
   * snapshot, so later commands read at most about N events. Default: 100.
   */
  readonly snapshotEvery: number;
}

/** The context keys, as typed after `-c`. */
export const CONTEXT = {
  disposable: 'disposable',
  tracing: 'tracing',
  throttleRate: 'throttleRate',
  throttleBurst: 'throttleBurst',
  corsOrigins: 'corsOrigins',
  servedProjectionVersions: 'servedProjectionVersions',
  snapshotEvery: 'snapshotEvery',
} as const;

export const DEFAULT_THROTTLE: ThrottleOptions = { rateLimit: 100, burstLimit: 200 };

type Flag = keyof typeof CONTEXT;

/** What each flag accepts, in the words of the error a wrong value gets (and of the docs). */
export const ACCEPTED_VALUES: Record<Flag, string> = {
  disposable: 'true or false',
  tracing: 'true or false',
  throttleRate: 'a positive number (requests per second)',
  throttleBurst: 'a positive integer',
  corsOrigins: 'a comma-separated list of origins (scheme://host[:port]) or *',
  servedProjectionVersions: `name=version,... naming this deployment's projections (${describeVersions(PROJECTIONS)})`,
  snapshotEvery: 'a positive integer',
};

/**
 * A `-c` flag the app cannot use: a value it does not accept, or a flag it does not know.
 * bin/app.ts prints the message as one line and exits 1, without a stack trace.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const shown = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));

const invalid = (flag: Flag, value: unknown, detail?: string) =>
  new ConfigError(
    `Invalid -c ${flag}=${shown(value)}: ${detail ? `${detail}; ` : ''}expected ${ACCEPTED_VALUES[flag]}`,
  );

/**
 * Context keys in the shape of this app's flags (a lowercase letter, then letters and digits)
 * that are not among them: a typo such as `-c disposible=true` would otherwise be ignored and
 * deploy the default. CDK's own keys (`@aws-cdk/...` feature flags, `aws:cdk:...`, cached
 * lookups `name:account=...`, `acknowledged-issue-numbers`) have other shapes and pass.
 */
const unknownFlags = (context: Record<string, unknown>): string[] => {
  const known = new Set<string>(Object.values(CONTEXT));
  return Object.keys(context).filter((key) => /^[a-z][A-Za-z0-9]*$/.test(key) && !known.has(key));
};

/** CLI context values arrive as strings; tests may pass real booleans and numbers. */
const booleanFlag = (value: unknown, flag: Flag): boolean => {
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw invalid(flag, value);
};

const positiveNumber = (value: unknown, flag: Flag, fallback: number, integer = false): number => {
  if (value === undefined) return fallback;
  const parsed = typeof value === 'number' ? value : Number(value);
  const valid =
    typeof value !== 'boolean' &&
    Number.isFinite(parsed) &&
    parsed > 0 &&
    (!integer || Number.isInteger(parsed));
  if (!valid) throw invalid(flag, value);
  return parsed;
};

const detailOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

const originList = (value: unknown): readonly string[] => {
  if (value === undefined) return DEFAULT_CORS_ORIGINS;
  const list = Array.isArray(value) ? value.join(',') : value;
  if (typeof list !== 'string') throw invalid(CONTEXT.corsOrigins, value);
  try {
    return parseCorsOrigins(list, CONTEXT.corsOrigins);
  } catch (error) {
    throw invalid(CONTEXT.corsOrigins, value, detailOf(error).replace(/^corsOrigins:? /, ''));
  }
};

/** Checked against the deployment's list at synthesis: a typo fails `cdk synth`, not a request. */
const servedVersions = (value: unknown): { servedProjectionVersions?: string } => {
  if (value === undefined) return {};
  if (typeof value !== 'string') throw invalid(CONTEXT.servedProjectionVersions, value);
  try {
    servedProjections(PROJECTIONS, value);
  } catch (error) {
    const detail = detailOf(error)
      .replace(/^served projection versions: /, '')
      .replace(/ \(.*\)$/, '');
    throw invalid(CONTEXT.servedProjectionVersions, value, detail);
  }
  return { servedProjectionVersions: value };
};

/** Reads and validates the options from the context of `scope` (normally the App). */
export const readOptions = (scope: Construct): DeploymentOptions => {
  const unknown = unknownFlags(scope.node.getAllContext() as Record<string, unknown>);
  if (unknown.length > 0) {
    throw new ConfigError(
      `Unknown -c flag ${unknown.join(', ')}: accepted flags are ${Object.values(CONTEXT).join(', ')}`,
    );
  }
  const get = (key: string): unknown => scope.node.tryGetContext(key);
  return {
    disposable: booleanFlag(get(CONTEXT.disposable), CONTEXT.disposable),
    tracing: booleanFlag(get(CONTEXT.tracing), CONTEXT.tracing),
    throttle: {
      rateLimit: positiveNumber(
        get(CONTEXT.throttleRate),
        CONTEXT.throttleRate,
        DEFAULT_THROTTLE.rateLimit,
      ),
      burstLimit: positiveNumber(
        get(CONTEXT.throttleBurst),
        CONTEXT.throttleBurst,
        DEFAULT_THROTTLE.burstLimit,
        true,
      ),
    },
    corsOrigins: originList(get(CONTEXT.corsOrigins)),
    ...servedVersions(get(CONTEXT.servedProjectionVersions)),
    snapshotEvery: positiveNumber(
      get(CONTEXT.snapshotEvery),
      CONTEXT.snapshotEvery,
      DEFAULT_SNAPSHOT_EVERY,
      true,
    ),
  };
};
