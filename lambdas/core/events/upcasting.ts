/**
 * Event schema versions and upcasters: how code of today reads events written by code of any
 * age. Pure (no I/O, no clock) and free of Node built-ins, so the browser client runs the same
 * steps as the Lambdas. Stored events are never rewritten: old shapes are lifted on every read.
 */

/** A JSON-object payload, as the codec hands it over. */
export type Payload = Record<string, unknown>;

/** One step: a payload of version `v` becomes a payload of version `v + 1`. Pure and total. */
export type Upcaster = (payload: Payload) => Payload;

/** How one event type's payload evolved. */
export interface EventSchema {
  /** The version new events of this type are written with (starts at 1). */
  readonly version: number;
  /** `steps[v]` turns version `v` into `v + 1`, for every `v` from 1 to `version - 1`. */
  readonly steps: Readonly<Record<number, Upcaster>>;
}

/** Event type -> its schema; a type not listed is at version 1 and has no steps. */
export type EventSchemas = Readonly<Record<string, EventSchema>>;

/** Throws unless every type has one step per older version (checked once, when a codec is built). */
export const checkEventSchemas = (schemas: EventSchemas): void => {
  for (const [type, schema] of Object.entries(schemas)) {
    if (!Number.isSafeInteger(schema.version) || schema.version < 1) {
      throw new Error(`Event schema of ${type}: version must be an integer >= 1`);
    }
    for (let v = 1; v < schema.version; v++) {
      if (typeof schema.steps[v] !== 'function') {
        throw new Error(`Event schema of ${type}: no upcaster from version ${v} to ${v + 1}`);
      }
    }
  }
};

export const currentVersionOf = (schemas: EventSchemas, type: string): number =>
  schemas[type]?.version ?? 1;

/**
 * Lifts a payload of `from` to the current version of `type`, one step at a time.
 * A version newer than the code knows (an event written by a newer deployment) is refused:
 * guessing its meaning would fold it wrong.
 */
export const upcastPayload = (
  schemas: EventSchemas,
  type: string,
  from: number,
  payload: Payload,
): Payload => {
  const current = currentVersionOf(schemas, type);
  if (from > current) {
    throw new RangeError(
      `schemaVersion ${from} of ${type} is newer than this code reads (${current})`,
    );
  }
  let lifted = payload;
  for (let v = from; v < current; v++) lifted = schemas[type]!.steps[v]!(lifted);
  return lifted;
};
