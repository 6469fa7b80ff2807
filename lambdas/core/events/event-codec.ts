/**
 * The event codec: the one way a stored event item becomes a `StoredEvent`. Every reader goes
 * through it (command load, gap healing, `/events`, `/history`, the stream projector), so an
 * unreadable item fails the same way everywhere: a CorruptEventError naming aggregate and
 * version, never a BigInt or an undefined field deep inside a reducer.
 *
 * It works on plain values (what the DynamoDB adapter unmarshalled, or what a client received),
 * one item at a time, and lifts old payload shapes to the current one with the deployment's
 * upcasters (`lambdas/domain/event-schemas.ts`): every reader sees today's shape, the stored
 * item is never rewritten. Pure and browser-safe: the client decodes with it too.
 */
import * as z from 'zod';
import { EVENT_SCHEMAS } from '../../domain/event-schemas';
import { CorruptEventError } from '../shared/errors';
import type { StoredEvent } from './events';
import { checkEventSchemas, currentVersionOf, upcastPayload } from './upcasting';

// A missing step would fail on the first old event read; fail at cold start instead.
checkEventSchemas(EVENT_SCHEMAS);

/** The schema version new events of `type` are written with. */
export const currentSchemaVersion = (type: string): number => currentVersionOf(EVENT_SCHEMAS, type);

const version = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** The fields that say which aggregate an item belongs to; checked before anything else. */
export const eventEnvelopeSchema = z.object({
  aggregateId: z.string().min(1),
  version,
  aggregateType: z.string().min(1),
});

/** Every field of an event-table item (system fields + a free JSON-object payload). */
export const storedEventSchema = eventEnvelopeSchema.extend({
  type: z.string().min(1),
  payload: z.record(z.string(), z.unknown()),
  eventId: z.string().min(1),
  occurredAt: z.iso.datetime({ offset: true }),
  commandId: z.string(),
  commandHash: z.string(),
  correlationId: z.string(),
  causationId: z.string(),
  /** The user whose command made it; absent on events stored before users existed. */
  actor: z.string().optional(),
  /** Absent on events written before versions were stored: those are version 1. */
  schemaVersion: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
});

export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;

/** Where a bad item sits, as far as it can be told (for the error and the operator). */
const nameOf = (item: unknown): { aggregateId: string; version: number | string } => {
  const record = (item ?? {}) as Record<string, unknown>;
  const id = record.aggregateId;
  const v = record.version;
  return {
    aggregateId: typeof id === 'string' ? id : '(unknown)',
    version: typeof v === 'number' || typeof v === 'string' ? v : String(v ?? '(unknown)'),
  };
};

/** The path of the first value that JSON cannot carry (BigInt, Set, NaN...), if any. */
const nonJson = (value: unknown, path: string): string | undefined => {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') {
    return Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))
      ? undefined
      : `${path}: number out of range`;
  }
  if (typeof value === 'bigint') return `${path}: integer beyond 2^53`;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const bad = nonJson(v, `${path}[${i}]`);
      if (bad) return bad;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) {
      const bad = nonJson(v, path ? `${path}.${k}` : k);
      if (bad) return bad;
    }
    return undefined;
  }
  return `${path}: not a JSON value (${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value})`;
};

const issuesOf = (error: z.ZodError) =>
  error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');

/** The envelope of a stored item (aggregate, version, type), or CorruptEventError. */
export const decodeEnvelope = (item: unknown): EventEnvelope => {
  const parsed = eventEnvelopeSchema.safeParse(item);
  if (parsed.success) return parsed.data;
  const { aggregateId, version: v } = nameOf(item);
  throw new CorruptEventError(aggregateId, v, issuesOf(parsed.error));
};

/**
 * Decodes and validates one stored event item and upcasts its payload to the current schema
 * version (the result carries that version), or throws CorruptEventError.
 */
export const decodeStoredEvent = (item: unknown): StoredEvent => {
  const parsed = storedEventSchema.safeParse(item);
  const { aggregateId, version: v } = nameOf(item);
  if (!parsed.success) throw new CorruptEventError(aggregateId, v, issuesOf(parsed.error));
  const event = parsed.data;
  const bad = nonJson(event.payload, 'payload');
  if (bad) throw new CorruptEventError(aggregateId, v, bad);
  const from = event.schemaVersion ?? 1;
  const current = currentSchemaVersion(event.type);
  if (from === current) return { ...event, schemaVersion: current };
  let payload: Record<string, unknown>;
  try {
    payload = upcastPayload(EVENT_SCHEMAS, event.type, from, event.payload);
  } catch (error) {
    throw new CorruptEventError(
      aggregateId,
      v,
      `upcasting ${event.type} from schemaVersion ${from}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return { ...event, payload, schemaVersion: current };
};
