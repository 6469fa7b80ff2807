/**
 * Lambda's event filtering, as an event source mapping applies it before invoking its function
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html): a record is
 * delivered when it matches any of the mapping's patterns, and discarded otherwise. The stream
 * poller (./stream-poller.ts) applies the patterns the stacks declare (lib/), so a function sees
 * locally the records it sees on AWS.
 *
 * A pattern is JSON: objects nest down the record's fields, and a leaf is an array of matchers,
 * any of which may match. Emulated matchers: a literal (string, number, boolean or null: equal),
 * `{ "exists": true | false }` and `{ "prefix": "..." }`. Any other matcher is refused when the
 * patterns are compiled, never silently ignored. A field holding an array matches when one of its
 * elements does.
 */

/** One filter pattern (the parsed `Pattern` of a FilterCriteria filter). */
export type FilterPattern = { readonly [field: string]: FilterPattern | readonly unknown[] };

export class FilterPatternError extends Error {
  override readonly name = 'FilterPatternError';
}

type Matcher = (value: unknown, present: boolean) => boolean;

const isLiteral = (value: unknown) =>
  value === null || ['string', 'number', 'boolean'].includes(typeof value);

const matcherOf = (rule: unknown, path: string): Matcher => {
  if (isLiteral(rule)) return (value, present) => present && value === rule;
  if (typeof rule === 'object' && rule !== null && !Array.isArray(rule)) {
    const entries = Object.entries(rule);
    const [operator, operand] = entries[0] ?? [];
    if (entries.length === 1 && operator === 'exists' && typeof operand === 'boolean') {
      return (_value, present) => present === operand;
    }
    if (entries.length === 1 && operator === 'prefix' && typeof operand === 'string') {
      return (value, present) => present && typeof value === 'string' && value.startsWith(operand);
    }
  }
  throw new FilterPatternError(
    `Filter pattern at ${path}: ${JSON.stringify(rule)} is not emulated (literals, exists and prefix are)`,
  );
};

type Compiled = (value: unknown, present: boolean) => boolean;

const field = (value: unknown, name: string) =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && name in value
    ? { present: true, value: (value as Record<string, unknown>)[name] }
    : { present: false, value: undefined };

const compile = (pattern: unknown, path: string): Compiled => {
  if (Array.isArray(pattern)) {
    if (pattern.length === 0) throw new FilterPatternError(`Filter pattern at ${path}: no matcher`);
    const matchers = pattern.map((rule, i) => matcherOf(rule, `${path}[${i}]`));
    return (value, present) =>
      // An array field matches when one of its elements does.
      present && Array.isArray(value)
        ? value.some((v) => matchers.some((m) => m(v, true)))
        : matchers.some((m) => m(value, present));
  }
  if (typeof pattern !== 'object' || pattern === null) {
    throw new FilterPatternError(
      `Filter pattern at ${path}: an object or an array of matchers, not ${JSON.stringify(pattern)}`,
    );
  }
  const fields = Object.entries(pattern).map(
    ([name, inner]) => [name, compile(inner, `${path}.${name}`)] as const,
  );
  // Every field of the pattern must match; under a missing object every field is absent.
  return (value, present) =>
    fields.every(([name, matches]) => {
      const found = present ? field(value, name) : { present: false, value: undefined };
      return matches(found.value, found.present);
    });
};

/**
 * A predicate over records from `patterns`, or undefined when there are none (every record
 * passes, and none needs to be looked at); throws FilterPatternError for a pattern this emulation
 * does not know.
 */
export const recordFilter = (
  patterns: readonly FilterPattern[] | undefined,
): ((record: unknown) => boolean) | undefined => {
  if (!patterns || patterns.length === 0) return undefined;
  const compiled = patterns.map((p, i) => compile(p, `filter ${i + 1}`));
  return (record) => compiled.some((matches) => matches(record, true));
};
