import * as contract from '../../../api-contract/index';
import type { ApiDeps } from '../api-deps';
import type { RouteTable } from '../route-table';
import { fromBase64, rotateKeysetBody } from '../schemas';

export function keysetRoutes(routes: RouteTable, deps: ApiDeps): void {
  routes.add({ method: 'get', path: '/api/keysets', response: contract.common.keysets, role: 'viewer', summary: 'Signer keysets, oldest first' }, async (c) =>
    c.json((await deps.keysets.list()).map((k) => ({ version: k.version, publicKeys: k.publicKeys, signed: k.envelope !== null, createdAt: k.createdAt, createdBy: k.createdBy }))),
  );

  routes.add(
    {
      method: 'post',
      path: '/api/keysets/rotate', response: contract.common.keysetRotated,
      role: 'admin',
      summary:
        'Rotate the signer keyset (admin): signed here by the gateway signer, or an envelope signed offline; leaving out a current signer needs removeSigners: true and a reason (else 422 E_REMOVES_SIGNER)',
      body: rotateKeysetBody,
    },
    async (c, { body, actor }) =>
      c.json(
        await deps.rotation.rotate(body.publicKeys, body.envelope === undefined ? undefined : fromBase64(body.envelope), actor, {
          ...(body.removeSigners === undefined ? {} : { removeSigners: body.removeSigners }),
          ...(body.reason === undefined ? {} : { reason: body.reason }),
        }),
      ),
  );
}
