/**
 * Which version of each declared projection the query route serves, when a deployment lists
 * several versions of one name side by side (a new version being rebuilt beside the old one).
 * Configuration, not code: `SERVED_PROJECTION_VERSIONS=customer-summary=2,removed-lines=1`, set
 * by the CDK (`-c servedProjectionVersions=...`) and by `npm start -- --serve ...`, so switching
 * to a rebuilt version and switching back (the rollback) is a configuration change.
 *
 * Default for a name not configured: its lowest listed version. A newly listed version starts
 * empty and is complete only after its rebuild, so it is never served until someone says so
 * (docs/decisions/side-by-side-versions.md).
 */
import type { AnyRowProjection } from './row-projection';

export class ServedVersionsError extends Error {
  override readonly name = 'ServedVersionsError';
}

/** `name=version,name=version` to a map; throws ServedVersionsError on anything else. */
export const parseServedVersions = (text: string | undefined): Map<string, number> => {
  const served = new Map<string, number>();
  for (const part of (text ?? '').split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const match = /^([a-z0-9-]{1,64})=v?(\d{1,9})$/.exec(entry);
    if (!match) {
      throw new ServedVersionsError(
        `served projection versions: "${entry}" is not name=version (e.g. my-read-model=2)`,
      );
    }
    if (served.has(match[1]!)) {
      throw new ServedVersionsError(`served projection versions: ${match[1]} is given twice`);
    }
    served.set(match[1]!, Number(match[2]));
  }
  return served;
};

/** `name: v1, v2; other: v1`, for error messages. */
export const describeVersions = (projections: readonly AnyRowProjection[]) => {
  const byName = new Map<string, number[]>();
  for (const p of projections) byName.set(p.name, [...(byName.get(p.name) ?? []), p.version]);
  return [...byName].map(([name, versions]) => `${name}: v${versions.join(', v')}`).join('; ');
};

/**
 * One projection per name, the one served: the configured version, else the lowest listed.
 * A configured name or version that the deployment does not list is an error (fail at cold
 * start, never serve something else).
 */
export const servedProjections = (
  projections: readonly AnyRowProjection[],
  configured: string | ReadonlyMap<string, number> | undefined,
): AnyRowProjection[] => {
  const wanted =
    typeof configured === 'string' || configured === undefined
      ? parseServedVersions(configured)
      : configured;
  for (const [name, version] of wanted) {
    if (!projections.some((p) => p.name === name && p.version === version)) {
      throw new ServedVersionsError(
        `served projection versions: ${name} v${version} is not in this deployment (${describeVersions(projections)})`,
      );
    }
  }
  const served = new Map<string, AnyRowProjection>();
  for (const p of projections) {
    const current = served.get(p.name);
    const want = wanted.get(p.name);
    if (want !== undefined) {
      if (p.version === want) served.set(p.name, p);
    } else if (!current || p.version < current.version) {
      served.set(p.name, p);
    }
  }
  return [...served.values()];
};
