import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { BUNDLE_GZIP_BUDGET } from '../../lib/constructs/bundle-options';
import { synthesize } from './helpers';

// The one test file that really bundles (esbuild, locally, no Docker): every function once.
// Asset metadata (set by the CLI too) names each function's asset directory.
const built = synthesize({ 'aws:cdk:enable-asset-metadata': true }, { bundle: true });
const assembly = built.app.synth();

const bundles = [
  // + the push functions (connections, notifier) in each stack, + the decoupled rebuild function
  ['decoupled', built.decoupledTemplate, 3 + 2 + 1],
  ['coupled', built.coupledTemplate, 1 + 2],
] as const;

describe.each(bundles)('%s stack bundles', (_name, template, count) => {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'));

  it('has one bundled asset per function', () => {
    expect(functions).toHaveLength(count);
    for (const [, fn] of functions) expect(fn.Metadata['aws:asset:is-bundled']).toBe(true);
  });

  it.each(functions.map(([id, fn]) => [id, fn.Metadata['aws:asset:path'] as string]))(
    '%s: one minified ES module with its source map, the AWS SDK inside, within the size budget',
    (_id, assetPath) => {
      const dir = path.join(assembly.directory, assetPath);
      const code = readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      expect(existsSync(path.join(dir, 'index.mjs.map'))).toBe(true);
      expect(code).toMatch(/export\{\w+ as handler\};/);
      expect(code.endsWith('//# sourceMappingURL=index.mjs.map\n')).toBe(true);
      // Lean functions (issue 12): the gzipped code within budget, the SDK still bundled.
      expect(gzipSync(code).length).toBeLessThanOrEqual(BUNDLE_GZIP_BUDGET);
      // Bundled, not taken from the runtime: no import or require of an SDK package is left
      // (the SDK's error texts quote `[require("@aws-sdk/signature-v4-crt");]`: not a call).
      expect(
        code.match(/(?<!\[)(?:from|import\(|require\()\s*"@(?:aws-sdk|smithy)\/[^"]+"/g),
      ).toBeNull();
      expect(code.includes('DynamoDBClient')).toBe(true);
      // Minified: one ~0.5 MB file; far from Lambda's 50 MB zipped / 250 MB unzipped limits.
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
      expect(statSync(path.join(dir, 'index.mjs')).size).toBeLessThan(1024 * 1024);
      // The map carries mappings only, not the sources.
      const map = JSON.parse(readFileSync(path.join(dir, 'index.mjs.map'), 'utf8')) as {
        sourcesContent?: unknown;
      };
      expect(map.sourcesContent).toBeUndefined();
    },
  );
});
