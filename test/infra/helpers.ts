/**
 * Builds the CDK app as the CLI does (cdk.json context + the flags of a test) and reads what the
 * templates grant. Each test file builds each variant once, at module scope. Bundling (esbuild,
 * ~1 s per function) is skipped unless a test asks for it, as `cdk synth --exclusively` does
 * for other stacks: templates are the same apart from the asset hashes.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type BuiltApp } from '../../lib/app';
import type { CoupledStack } from '../../lib/stacks/coupled-stack';
import type { DecoupledStack } from '../../lib/stacks/decoupled-stack';

/** Either stack: both have `eventTable`, `projectionsTable`, `commandTables` and `api`. */
export type AppStack = DecoupledStack | CoupledStack;

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const CDK_JSON_CONTEXT = (
  JSON.parse(readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

export interface Synthesized extends BuiltApp {
  readonly decoupledTemplate: Template;
  readonly coupledTemplate: Template;
  /** The Cognito user pool both API stacks accept tokens of. */
  readonly identityTemplate: Template;
}

/** CDK's context key (cx-api BUNDLING_STACKS): the stacks whose assets are bundled. */
const BUNDLING_STACKS = 'aws:cdk:bundling-stacks';

/** The app with cdk.json's context (feature flags) and `flags`, synthesized. */
export const synthesize = (
  flags: Record<string, unknown> = {},
  options: { bundle?: boolean } = {},
): Synthesized => {
  const built = buildApp({
    ...CDK_JSON_CONTEXT,
    ...(!options.bundle && { [BUNDLING_STACKS]: [] }),
    ...flags,
  });
  return {
    ...built,
    decoupledTemplate: Template.fromStack(built.decoupled),
    coupledTemplate: Template.fromStack(built.coupled),
    identityTemplate: Template.fromStack(built.identity),
  };
};

/** The logical id of a construct's CloudFormation resource (e.g. a table's). */
export const logicalIdOf = (construct: { node: { defaultChild?: unknown } }, stack: Stack) =>
  stack.resolve((construct.node.defaultChild as CfnElement).logicalId) as string;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A policy resource as a readable string, the way cdk-nag flattens it:
 * `{ Fn::GetAtt: [T, Arn] }` is `<T.Arn>`, a Join is its parts, `*` stays `*`.
 */
export const flatten = (value: Json): string => {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return `<${String(getAtt[0])}.${String(getAtt[1])}>`;
    const ref = value.Ref;
    if (typeof ref === 'string') return `<${ref}>`;
    const join = value['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join as [string, Json[]];
      return parts.map(flatten).join(separator);
    }
  }
  return JSON.stringify(value);
};

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json | Json[];
}

export interface Permission {
  readonly action: string;
  readonly resource: string;
}

/**
 * Every Allow (action, resource) pair of the role of the function whose logical id starts with
 * `functionLogicalIdPrefix`, from its inline and attached policies, sorted. Pairs, not
 * statements: how CDK groups statements (minimizePolicies) does not change what is granted.
 */
export const permissionsOf = (template: Template, functionLogicalIdPrefix: string) => {
  const functions = template.findResources('AWS::Lambda::Function');
  const [fnId, fn] = Object.entries(functions).find(([id]) =>
    id.startsWith(functionLogicalIdPrefix),
  ) ?? [undefined, undefined];
  if (!fnId || !fn) throw new Error(`No function ${functionLogicalIdPrefix}*`);
  const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const role = template.findResources('AWS::IAM::Role')[roleId];
  if (!role) throw new Error(`No role ${roleId}`);

  const statements: Statement[] = [];
  const inline = role.Properties.Policies as { PolicyDocument: { Statement?: Statement[] } }[];
  for (const policy of asArray(inline)) statements.push(...(policy.PolicyDocument.Statement ?? []));
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = asArray(policy.Properties.Roles as { Ref: string }[]).map((r) => r.Ref);
    if (roles.includes(roleId)) statements.push(...policy.Properties.PolicyDocument.Statement);
  }
  const pairs = statements
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) =>
      asArray(s.Action).flatMap((action) =>
        asArray(s.Resource as Json).map((r) => `${action} ${flatten(r)}`),
      ),
    );
  return {
    roleId,
    managedPolicyArns: asArray(role.Properties.ManagedPolicyArns as Json[]),
    /** `action resource`, sorted and unique. */
    permissions: [...new Set(pairs)].sort(),
  };
};

/** `action <Resource.Attr>` pairs, sorted, for comparison with `permissionsOf`. */
export const grants = (actions: string[], resources: string[]): string[] =>
  actions.flatMap((action) => resources.map((resource) => `${action} ${resource}`));
