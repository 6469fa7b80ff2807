/**
 * How every function is bundled, in one place: the CDK construct (NodejsFunction) and the
 * benchmark's bundle sweep (an esbuild build) read these, so the sizes and load times the bench
 * reports are those of the deployed code. No CDK import here: the bench loads it cheaply.
 */
import * as path from 'node:path';

/** At most this many gzipped bytes per function's code (issue 12: lean functions). */
export const BUNDLE_GZIP_BUDGET = 150 * 1024;

export const BUNDLE_OPTIONS = {
  minify: true,
  target: 'node22',
  /**
   * ESM with the packages' ESM builds first: esbuild tree-shakes ES modules, so the AWS SDK's
   * and zod's unused parts stay out (CommonJS output of the same code is ~40% larger).
   */
  format: 'esm',
  mainFields: ['module', 'main'],
  /**
   * The SDK's Node credential chain replaced by the environment's credentials, which is where
   * Lambda puts the role's (lambdas/core/shared/lambda-credentials.ts): ~38 KB gzipped less per function.
   */
  alias: {
    '@aws-sdk/credential-provider-node': path.join(
      __dirname,
      '..',
      '..',
      'lambdas',
      'core',
      'shared',
      'lambda-credentials.ts',
    ),
  },
} as const;
