import * as contract from '../../../api-contract/index';
import { hashApiToken, newApiToken } from '../../auth/api-tokens';
import type { ApiDeps } from '../api-deps';
import { GatewayError } from '../gateway-error';
import type { RouteTable } from '../route-table';
import { createTokenBody } from '../schemas';

const DAY_MS = 86_400_000;

export function tokenRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    { method: 'post', path: '/api/tokens', response: contract.common.createdToken, role: 'admin', summary: 'Create an API token (shown once); optional expiresAt (ms) or ttlDays', body: createTokenBody, status: 201 },
    async (c, { body, actor }) => {
      const now = deps.clock.now();
      const expiresAt = body.expiresAt ?? (body.ttlDays === undefined ? null : now + body.ttlDays * DAY_MS);
      // a token born expired is a caller's mistake (a clock in seconds, a stale form), not a useful token (issue 17)
      if (expiresAt !== null && expiresAt <= now) throw new GatewayError('E_BAD_BODY', `invalid body: expiresAt: ${expiresAt} is not in the future (now ${now})`);
      const token = newApiToken();
      if (!await deps.tokens.insert(body.name, body.role, hashApiToken(token), actor, now, expiresAt)) {
        throw new GatewayError('E_CONFLICT', `a token named "${body.name}" exists`);
      }
      await deps.audit.append(actor, 'token.create', body.name, { role: body.role, expiresAt });
      return c.json({ token, name: body.name, role: body.role, expiresAt }, 201);
    },
  );

  routes.add(
    { method: 'get', path: '/api/tokens', response: contract.common.tokens, role: 'admin', summary: 'List API tokens (never their secret): expiry, revocation, last use' },
    async (c) => c.json(await deps.tokens.list()),
  );

  routes.add(
    { method: 'post', path: '/api/tokens/:name/revoke', response: contract.common.revokedToken, role: 'admin', summary: 'Revoke an API token at once (audited)' },
    async (c, { actor }) => {
      const name = c.req.param('name') ?? '';
      const now = deps.clock.now();
      if (!await deps.tokens.revoke(name, now)) throw GatewayError.notFound(`token "${name}"`);
      const revokedAt = (await deps.tokens.list()).find((t) => t.name === name)?.revokedAt ?? now;
      await deps.audit.append(actor, 'token.revoke', name, { revokedAt });
      return c.json({ name, revokedAt });
    },
  );
}
