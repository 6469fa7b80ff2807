/**
 * `npm run new -- aggregate <name>`: writes a new aggregate (domain folder + given/when/then test)
 * and registers it in lambdas/handlers/deployment.ts. Everything is checked and prepared before
 * the first write; a failure while writing removes what was written. The file texts and the edit
 * are pure (scripts/scaffold.ts); this file reads the project and writes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as prettier from 'prettier';
import {
  DEPLOYMENT_FILE,
  domainFolder,
  type ExistingNames,
  namesOf,
  nextSteps,
  parseNewArgs,
  registerInDeployment,
  ScaffoldError,
  scaffoldFiles,
  USAGE,
  validateName,
} from './scaffold';

const ROOT = join(__dirname, '..');

/** Domain folders, and the aggregate types and read-model names the deployment lists. */
const existingNames = async (root: string): Promise<ExistingNames> => {
  const folders = readdirSync(join(root, 'lambdas/domain'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const deployment = (await import(
    join(root, 'lambdas/handlers/deployment')
  )) as typeof import('../lambdas/handlers/deployment');
  return {
    folders,
    aggregateTypes: deployment.AGGREGATES.map((aggregate) => aggregate.type),
    readModels: deployment.PROJECTIONS.map((projection) => projection.name),
  };
};

/** Formats as `npm run format` would, so the new files pass `prettier --check`. */
const formatted = async (root: string, file: string, text: string) => {
  const path = join(root, file);
  const options = await prettier.resolveConfig(path);
  return prettier.format(text, { ...options, filepath: path });
};

/** Writes the aggregate `name` under `root`; returns the files written (relative paths). */
export const newAggregate = async (root: string, name: string): Promise<string[]> => {
  const names = validateName(name, await existingNames(root));
  const files = new Map(scaffoldFiles(names));
  for (const file of files.keys()) {
    if (existsSync(join(root, file))) throw new ScaffoldError(`${file} already exists`);
  }
  const deploymentPath = join(root, DEPLOYMENT_FILE);
  const deploymentBefore = readFileSync(deploymentPath, 'utf8');
  files.set(DEPLOYMENT_FILE, registerInDeployment(deploymentBefore, names));
  const texts = await Promise.all(
    [...files].map(async ([file, text]) => [file, await formatted(root, file, text)] as const),
  );

  const folder = join(root, domainFolder(names));
  const written: string[] = [];
  try {
    mkdirSync(folder);
    for (const [file, text] of texts) {
      if (file === DEPLOYMENT_FILE) continue;
      mkdirSync(dirname(join(root, file)), { recursive: true });
      writeFileSync(join(root, file), text, { flag: 'wx' });
      written.push(file);
    }
    // Last: the one edit of an existing file.
    writeFileSync(deploymentPath, texts.find(([file]) => file === DEPLOYMENT_FILE)![1]);
  } catch (error) {
    for (const file of written) rmSync(join(root, file), { force: true });
    rmSync(folder, { recursive: true, force: true });
    writeFileSync(deploymentPath, deploymentBefore);
    throw error;
  }
  return [...written, DEPLOYMENT_FILE];
};

const main = async (argv: readonly string[]): Promise<number> => {
  try {
    const request = parseNewArgs(argv);
    if (request.kind === 'help') {
      console.log(USAGE);
      return 0;
    }
    const written = await newAggregate(ROOT, request.name);
    console.log(nextSteps(namesOf(request.name), written));
    return 0;
  } catch (error) {
    if (!(error instanceof ScaffoldError)) throw error;
    console.error(`error: ${error.message}. Nothing was written.`);
    if (error.showUsage) console.error(`\n${USAGE}`);
    return error.showUsage ? 2 : 1;
  }
};

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      console.error('error:', error);
      process.exitCode = 1;
    },
  );
}
