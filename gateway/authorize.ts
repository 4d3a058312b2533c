/** Role checks shared by the domain services. Fail closed: an unexpected role is refused. */
import type { CallContext, Role } from './context.js';
import { Forbidden } from './errors.js';

export function requireRole(ctx: CallContext, ...roles: Role[]): void {
  if (!roles.includes(ctx.party.role)) {
    throw new Forbidden(`the ${ctx.party.role} role may not do this`);
  }
}
