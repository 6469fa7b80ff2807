import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { synthesize } from './helpers';

// The one test file that really bundles (esbuild, locally, no Docker): every function once.
// Asset metadata (set by the CLI too) names each function's asset directory.
const built = synthesize({ 'aws:cdk:enable-asset-metadata': true }, { bundle: true });
const assembly = built.app.synth();

const bundles = [
  // + the push functions (connections, notifier) in each stack
  ['decoupled', built.decoupledTemplate, 3 + 2],
  ['coupled', built.coupledTemplate, 1 + 2],
] as const;

describe.each(bundles)('%s stack bundles', (_name, template, count) => {
  const functions = Object.entries(template.findResources('AWS::Lambda::Function'));

  it('has one bundled asset per function', () => {
    expect(functions).toHaveLength(count);
    for (const [, fn] of functions) expect(fn.Metadata['aws:asset:is-bundled']).toBe(true);
  });

  it.each(functions.map(([id, fn]) => [id, fn.Metadata['aws:asset:path'] as string]))(
    '%s: one minified CommonJS file with its source map, the AWS SDK inside',
    (_id, assetPath) => {
      const dir = path.join(assembly.directory, assetPath);
      const code = readFileSync(path.join(dir, 'index.js'), 'utf8');
      expect(existsSync(path.join(dir, 'index.js.map'))).toBe(true);
      expect(code.startsWith('"use strict";')).toBe(true);
      expect(code.includes('module.exports=')).toBe(true);
      expect(code.endsWith('//# sourceMappingURL=index.js.map\n')).toBe(true);
      // Bundled, not taken from the runtime: the only @aws-sdk require left is the SDK's own
      // optional one (CRT-based SigV4a, in a try/catch; not installed, not needed).
      const sdkRequires = new Set(code.match(/require\("@aws-sdk\/[^"]+"\)/g) ?? []);
      expect([...sdkRequires]).toEqual(
        sdkRequires.size === 0 ? [] : ['require("@aws-sdk/signature-v4-crt")'],
      );
      expect(code.includes('DynamoDBClient')).toBe(true);
      // Minified: one ~1 MB file; far from Lambda's 50 MB zipped / 250 MB unzipped limits.
      expect(code.length / code.split('\n').length).toBeGreaterThan(1000);
      expect(statSync(path.join(dir, 'index.js')).size).toBeLessThan(3 * 1024 * 1024);
      // The map carries mappings only, not the sources.
      const map = JSON.parse(readFileSync(path.join(dir, 'index.js.map'), 'utf8')) as {
        sourcesContent?: unknown;
      };
      expect(map.sourcesContent).toBeUndefined();
    },
  );
});
