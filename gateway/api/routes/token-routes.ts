import * as contract from '../../../api-contract/index';
import { hashApiToken, newApiToken } from '../../auth/api-tokens';
import type { ApiDeps } from '../api-deps';
import { GatewayError } from '../gateway-error';
import type { RouteTable } from '../route-table';
import { createTokenBody } from '../schemas';

export function tokenRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add(
    { method: 'post', path: '/api/tokens', response: contract.common.createdToken, role: 'admin', summary: 'Create an API token (shown once)', body: createTokenBody, status: 201 },
    async (c, { body, actor }) => {
      const token = newApiToken();
      if (!await deps.tokens.insert(body.name, body.role, hashApiToken(token), actor, deps.clock.now())) {
        throw new GatewayError('E_CONFLICT', `a token named "${body.name}" exists`);
      }
      await deps.audit.append(actor, 'token.create', body.name, { role: body.role });
      return c.json({ token, name: body.name, role: body.role }, 201);
    },
  );
}
