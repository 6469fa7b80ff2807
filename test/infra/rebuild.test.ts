/**
 * The rebuild state machine (lib/constructs/rebuild.ts): Start -> Distributed Map over the Scan
 * segments (Segment looping until done) -> Finish; the rebuild function's grants: Scan on the
 * event table only, GetItem/BatchGetItem/PutItem on the projections table only under the listed projections'
 * keys and its own progress items. Both stacks have it (the coupled stack's declared projections
 * are a projector's job too). cdk-nag: see nag.test.ts (the stacks are clean).
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { PROJECTIONS } from '../../lambdas/handlers/deployment';
import { UNTIL_SAFETY_MARGIN_MS } from '../../lambdas/core/repair/rebuild';
import { rebuildLeadingKeys } from '../../lib/constructs/rebuild';
import { logicalIdOf, permissionsOf, synthesize } from './helpers';

const built = synthesize();

interface MachineDefinition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
}

/** The state machine's definition, with the CloudFormation intrinsics of ARNs left as text. */
const definition = (template: Template): MachineDefinition => {
  const machines = template.findResources('AWS::StepFunctions::StateMachine');
  const [machine] = Object.values(machines);
  const body = (machine!.Properties as { DefinitionString: unknown }).DefinitionString;
  const text = JSON.stringify(body).replace(/\{\\"Fn::GetAtt\\":\[[^\]]*\]\}/g, 'ARN');
  const joined = (JSON.parse(text) as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1]
    .map((part) => (typeof part === 'string' ? part : 'ARN'))
    .join('');
  return JSON.parse(joined) as MachineDefinition;
};

describe.each([
  ['decoupled', built.decoupled, built.decoupledTemplate],
  ['coupled', built.coupled, built.coupledTemplate],
] as const)('rebuild state machine, %s stack', (_name, stack, template) => {
  it('Start, then a Distributed Map over the segments whose Segment loops until done, then Finish', () => {
    const d = definition(template);
    expect(d.StartAt).toBe('Start');
    expect(d.States.Start).toMatchObject({ Type: 'Task', Next: 'Segments' });
    const map = d.States.Segments as {
      Type: string;
      ItemsPath: string;
      ItemProcessor: {
        ProcessorConfig: { Mode: string };
        StartAt: string;
        States: Record<string, unknown>;
      };
      ItemSelector: Record<string, string>;
      MaxConcurrency: number;
      Next: string;
    };
    expect(map).toMatchObject({
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 100,
      Next: 'Finish',
      ItemSelector: { 'segment.$': '$$.Map.Item.Value', 'projection.$': '$.projection' },
    });
    expect(map.ItemProcessor.ProcessorConfig.Mode).toBe('DISTRIBUTED');
    expect(map.ItemProcessor.StartAt).toBe('Segment');
    expect(map.ItemProcessor.States['Segment done?']).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.done', BooleanEquals: true, Next: 'Segment rebuilt' }],
      Default: 'Segment',
    });
    expect(d.States['Caught up?']).toMatchObject({ Type: 'Choice', Default: 'Events not applied' });
    // A build with events it could not apply is `failed`: the execution fails with that name.
    expect(d.States['Events not applied']).toMatchObject({ Type: 'Fail', Error: 'RebuildFailed' });
  });

  it('logs every step; outputs its ARN', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
    });
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    template.hasOutput('RebuildStateMachineArn', {
      Value: {
        Ref: stack.resolve(
          (stack.rebuild.stateMachine.node.defaultChild as unknown as { logicalId: string })
            .logicalId,
        ),
      },
    });
  });

  it('the rebuild function: a 15-minute timeout, Scan on the event table, writes only under the listed projections', () => {
    const fn = stack.rebuild.function;
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Rebuild of a declared projection'),
      Timeout: 900,
    });
    const policies = template.findResources('AWS::IAM::Policy');
    const roleId = stack.resolve(
      (fn.role.node.defaultChild as unknown as { logicalId: string }).logicalId,
    ) as string;
    const statements = Object.values(policies)
      .filter((p) =>
        (p.Properties as { Roles: { Ref: string }[] }).Roles.some((r) => r.Ref === roleId),
      )
      .flatMap(
        (p) =>
          (p.Properties as { PolicyDocument: { Statement: unknown[] } }).PolicyDocument.Statement,
      ) as {
      Action: string | string[];
      Resource: unknown;
      Condition?: unknown;
    }[];
    const dynamo = statements.filter((s) =>
      [s.Action].flat().some((a) => a.startsWith('dynamodb:')),
    );
    const eventTableId = stack.resolve(
      (stack.eventTable.table.node.defaultChild as unknown as { logicalId: string }).logicalId,
    ) as string;
    const projectionsId = stack.resolve(
      (stack.projectionsTable.table.node.defaultChild as unknown as { logicalId: string })
        .logicalId,
    ) as string;
    expect(dynamo).toEqual([
      {
        Effect: 'Allow',
        Action: 'dynamodb:Scan',
        Resource: { 'Fn::GetAtt': [eventTableId, 'Arn'] },
      },
      {
        Effect: 'Allow',
        Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': [projectionsId, 'Arn'] },
        Condition: {
          'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': rebuildLeadingKeys(PROJECTIONS) },
        },
      },
    ]);
    // The order's view is a declared projection like the others: rebuilt the same way.
    expect(rebuildLeadingKeys(PROJECTIONS)).toEqual([
      'order@v1#*',
      'order@v1@*',
      'customer-summary@v1#*',
      'customer-summary@v1@*',
      'removed-lines@v2#*',
      'removed-lines@v2@*',
      'shopping-list@v1#*',
      'shopping-list@v1@*',
      'owner-lists@v1#*',
      'owner-lists@v1@*',
      'inventory@v1#*',
      'inventory@v1@*',
      'rebuild#*',
    ]);
  });

  it('--until refuses moments within a margin that every function appending events times out well within', () => {
    for (const [stack, t] of [
      [built.decoupled, template],
      [built.coupled, built.coupledTemplate],
    ] as const) {
      const eventTable = logicalIdOf(stack.eventTable.table, stack);
      const appenders = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([id]) =>
        permissionsOf(t, id).permissions.includes(`dynamodb:PutItem <${eventTable}.Arn>`),
      );
      expect(appenders.length).toBeGreaterThan(0);
      for (const [, fn] of appenders) {
        // At least 30 s of the margin left for clocks and requests in flight.
        expect((fn.Properties as { Timeout: number }).Timeout * 1000).toBeLessThanOrEqual(
          UNTIL_SAFETY_MARGIN_MS - 30_000,
        );
      }
    }
  });
});
