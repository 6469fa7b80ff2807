/**
 * Who is asking: the verified subject of a token and their roles. The gateway verifies the
 * token (API Gateway's JWT authorizer; locally local/emulators/identity-provider.ts does the
 * same checks); handlers read the principal from what it passes on and hand it to the domain,
 * whose pure rules (./authorization.ts) decide. Nothing here verifies anything.
 */
import { AppError } from '../shared/errors';

/** The roles a rule may name. Any other group a token carries is ignored. */
export const ROLES = ['support', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** The token's `sub`: a stable user id (Cognito's user id; locally the dev user's name). */
  readonly subject: string;
  readonly roles: readonly Role[];
}

export const hasRole = (principal: Principal, role: Role): boolean =>
  principal.roles.includes(role);

/** The claim that carries roles: Cognito puts a user's groups there, and the dev IdP does too. */
export const ROLES_CLAIM = 'cognito:groups';

/** Claims as verifiers and gateways hand them on: JSON values, or API Gateway's flattened text. */
export type Claims = Readonly<Record<string, unknown>>;

/**
 * A claim that holds a list: a JSON array (a decoded token), or the text API Gateway's JWT
 * authorizer makes of an array in `requestContext.authorizer.jwt.claims` (`[support admin]`),
 * or a Lambda authorizer's comma-separated context value (`support,admin`).
 */
export const claimList = (value: unknown): string[] => {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value !== 'string') return [];
  const text = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  return text.split(/[\s,]+/).filter(Boolean);
};

/** The signed-in user has no valid token (HTTP 401); the gateway normally answers first. */
export class UnauthenticatedError extends AppError {
  constructor(message = 'Sign in: this request carries no verified identity') {
    super('UNAUTHENTICATED', message);
  }
}

/** The principal of verified claims, or UnauthenticatedError when there is no subject. */
export const principalFromClaims = (claims: Claims | undefined): Principal => {
  const subject = claims?.sub;
  if (typeof subject !== 'string' || subject.length === 0) throw new UnauthenticatedError();
  const roles = claimList(claims?.[ROLES_CLAIM]).filter((r): r is Role =>
    (ROLES as readonly string[]).includes(r),
  );
  return { subject, roles };
};
