/**
 * client/ is bundled for browsers: its import graph holds no Node built-in and no AWS SDK
 * (lambdas/core/command/canonical-json.ts, which needs node:crypto, must stay out of it).
 */
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

const root = join(__dirname, '..', '..');

/** Fails the build on any import a browser cannot have, naming the importer. */
const forbidNodeAndSdk: Plugin = {
  name: 'forbid-node-and-sdk',
  setup(b) {
    b.onResolve({ filter: /^(node:|@aws-sdk\/|@smithy\/)/ }, (args) => ({
      errors: [{ text: `${args.path} imported by ${args.importer}` }],
    }));
  },
};

const bundle = (entry: string) =>
  build({
    entryPoints: [join(root, entry)],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    metafile: true,
    logLevel: 'silent',
    plugins: [forbidNodeAndSdk],
  });

test('client/index.ts bundles for the browser without node: or @aws-sdk imports', async () => {
  const result = await bundle('client/index.ts');
  const inputs = Object.keys(result.metafile.inputs);
  expect(inputs).toEqual(expect.arrayContaining(['lambdas/domain/order/decide.ts']));
  expect(
    inputs.filter((i) => /canonical-json|command-runner|@aws-sdk|node_modules\/@smithy/.test(i)),
  ).toEqual([]);
});

test('the check bites: client/node.ts (a JSON file outbox) is refused', async () => {
  await expect(bundle('client/node.ts')).rejects.toThrow(/node:fs imported by/);
});
