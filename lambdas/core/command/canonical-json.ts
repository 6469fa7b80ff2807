import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal values always give equal strings. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
