import * as contract from '../../../api-contract/index';
import { pinFromKeyInput } from '../../guided-rotation/key-input';
import type { ApiDeps } from '../api-deps';
import { GatewayError } from '../gateway-error';
import { admissionCheckBody, admissionReviewBody } from '../lifecycle-schemas';
import type { RouteTable } from '../route-table';

/** "May host H switch to key K now?" for pipelines and Kubernetes (issue 16 §4). */
export function admissionRoutes(routes: RouteTable, deps: ApiDeps): void {
  const admission = deps.keyAdmission;

  routes.add(
    {
      method: 'post',
      path: '/api/admission/check',
      response: contract.lifecycle.admissionDecision,
      role: 'viewer',
      summary: 'May host H switch to key K now? {host, key: pin | PEM key | CSR | certificate} → allowed, at-risk count, per fleet',
      body: admissionCheckBody,
    },
    async (c, { body }) => {
      const pin = pinFromKeyInput(body.key);
      if (!pin.ok) throw new GatewayError('E_BAD_BODY', `key: ${pin.error}`);
      return c.json(await admission.decide([body.host.toLowerCase()], pin.value));
    },
  );

  routes.add(
    {
      method: 'post',
      path: '/api/admission/review',
      response: contract.lifecycle.admissionReview,
      role: 'viewer',
      summary: 'Kubernetes ValidatingAdmissionWebhook for TLS Secrets: AdmissionReview in, AdmissionReview out (denied with the at-risk count)',
      body: admissionReviewBody,
    },
    async (c, { body, actor }) => c.json(await admission.review(body.request, actor)),
  );
}
