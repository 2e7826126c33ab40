import { z } from 'zod';
import type { RouteSpec } from './route-table';

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', pattern: '^E_' }, message: { type: 'string' } },
    },
  },
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  // `unrepresentable: 'any'` keeps transforms (e.g. online=true → boolean) from failing the document
  return z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
}

function queryParameters(schema: z.ZodType | undefined) {
  if (!schema) return [];
  const doc = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(doc.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: doc.required?.includes(name) ?? false,
    schema: s,
  }));
}

/** OpenAPI 3.1 document built from the route table (the same zod schemas the routes validate with). */
export function openApiDocument(specs: readonly RouteSpec[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of specs) {
    const path = spec.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const pathParams = [...spec.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const status = String(spec.status ?? 200);
    paths[path] ??= {};
    paths[path][spec.method] = {
      summary: spec.summary,
      ...(spec.role === null ? { security: [] } : { security: [{ bearer: [] }], 'x-required-role': spec.role }),
      parameters: [...pathParams, ...queryParameters(spec.query)],
      ...(spec.body ? { requestBody: { required: spec.optionalBody !== true, content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } } } } : {}),
      responses: {
        [status]: {
          description: 'OK',
          content: { [spec.contentType ?? 'application/json']: { schema: jsonSchema(spec.response, 'output') } },
        },
        default: { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Pin-update gateway API',
      version,
      description: 'Roles: admin > operator > publisher > viewer. Errors are {"error":{"code":"E_…","message":"…"}}.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: errorSchema },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
