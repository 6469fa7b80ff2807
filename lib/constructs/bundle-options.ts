/**
 * How every function is bundled, in one place: the CDK construct (NodejsFunction) and the
 * benchmark's bundle sweep (an esbuild build) read these, so the sizes and load times the bench
 * reports are those of the deployed code. No CDK import here: the bench loads it cheaply.
 */

/**
 * At most this many gzipped bytes per function's code (issue 12: lean functions). 152 KB since
 * the sharded read-model route and the bounded minVersion wait (the coupled bundle was 0.2 KB
 * over 150 KB).
 */
export const BUNDLE_GZIP_BUDGET = 152 * 1024;

export const BUNDLE_OPTIONS = {
  minify: true,
  target: 'node22',
  /**
   * ESM with the packages' ESM builds first: esbuild tree-shakes ES modules, so the AWS SDK's
   * and zod's unused parts stay out (CommonJS output of the same code is ~40% larger).
   */
  format: 'esm',
  mainFields: ['module', 'main'],
} as const;
