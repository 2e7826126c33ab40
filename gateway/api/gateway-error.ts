import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The one error type of the API: an HTTP status, a stable code (`E_…`) and a message, optionally the cause and
 * details for the answer (e.g. the live check of a refused pin set). app.onError turns it into
 * `{"error": {"code", "message", ...details}}`.
 */
export class GatewayError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'GatewayError';
  }

  static badRequest(code: string, message: string, details?: Record<string, unknown>): GatewayError {
    return new GatewayError(400, code, message, details);
  }
  static notFound(what: string): GatewayError {
    return new GatewayError(404, 'E_NOT_FOUND', `${what} not found`);
  }
  static conflict(code: string, message: string): GatewayError {
    return new GatewayError(409, code, message);
  }
  static refused(code: string, message: string, details?: Record<string, unknown>): GatewayError {
    return new GatewayError(422, code, message, details);
  }
}
