/**
 * docs/operations/deploying.md documents what the app synthesizes: every stack output with the
 * stacks that have it, every `-c` flag, and which function may Scan. Adding an output or a flag
 * without documenting it (or documenting one that is gone) fails here.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Template } from 'aws-cdk-lib/assertions';
import { CONTEXT } from '../../lib/config';
import { OUTPUT } from '../../lib/stacks/outputs';
import { permissionsOf, synthesize } from './helpers';

const guide = readFileSync(path.join(__dirname, '../../docs/operations/deploying.md'), 'utf8');
const { decoupledTemplate, coupledTemplate, identityTemplate } = synthesize();

/** The rows of the markdown table that follows `heading` (first cell, second cell). */
const tableAfter = (heading: RegExp): string[][] => {
  const lines = guide.split('\n');
  const start = lines.findIndex((line) => heading.test(line));
  if (start < 0) throw new Error(`docs/operations/deploying.md has no line matching ${heading}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('|')) {
      if (rows.length > 0) break;
      continue;
    }
    rows.push(
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );
  }
  return rows.slice(2); // header and separator
};

/** A template's own outputs: not the exports CDK adds for cross-stack references. */
const outputsOf = (template: Template) =>
  Object.keys(template.findOutputs('*')).filter((id) => !id.startsWith('ExportsOutput'));

it('the outputs table lists every output of the templates, with the stacks that have it', () => {
  const decoupled = outputsOf(decoupledTemplate);
  const coupled = outputsOf(coupledTemplate);
  const identity = outputsOf(identityTemplate);
  const expected = Object.fromEntries(
    [...new Set([...decoupled, ...coupled, ...identity])].map((id) => [
      id,
      identity.includes(id)
        ? 'identity'
        : decoupled.includes(id) && coupled.includes(id)
          ? 'both'
          : decoupled.includes(id)
            ? 'decoupled'
            : 'coupled',
    ]),
  );
  const documented = Object.fromEntries(
    tableAfter(/outputs \(`lib\/stacks\/outputs\.ts`/).map(([output, stack]) => [
      output!.replace(/`/g, ''),
      stack,
    ]),
  );
  expect(documented).toEqual(expected);
});

it('every output id is named in lib/stacks/outputs.ts (OUTPUT)', () => {
  const ids = [
    ...new Set([
      ...outputsOf(decoupledTemplate),
      ...outputsOf(coupledTemplate),
      ...outputsOf(identityTemplate),
    ]),
  ];
  expect(ids.sort()).toEqual(Object.values(OUTPUT).sort());
});

it('the context flags table lists every -c flag of lib/config.ts, and no other', () => {
  const documented = tableAfter(/^### Context flags/).flatMap(
    ([flags]) => flags!.match(/`([A-Za-z]+)=/g)?.map((f) => f.slice(1, -1)) ?? [],
  );
  expect(documented.sort()).toEqual(Object.values(CONTEXT).sort());
});

it('only the rebuild function may Scan, and only the event table, as the guide says', () => {
  const scanning = [decoupledTemplate, coupledTemplate].flatMap((template, i) =>
    Object.keys(template.findResources('AWS::Lambda::Function')).flatMap((id) =>
      permissionsOf(template, id)
        .permissions.filter((p) => p.startsWith('dynamodb:Scan '))
        .map((p) => `${i === 0 ? 'decoupled' : 'coupled'} ${id.replace(/[0-9A-F]{8}$/, '')} ${p}`),
    ),
  );
  expect(scanning).toEqual([
    expect.stringMatching(/^decoupled RebuildFunction\w* dynamodb:Scan <EventTable\w*\.Arn>$/),
    expect.stringMatching(/^coupled RebuildFunction\w* dynamodb:Scan <EventTable\w*\.Arn>$/),
  ]);
  expect(guide.replace(/\s+/g, ' ')).toContain(
    'Only the rebuild function may `Scan`, and only the event table',
  );
});
