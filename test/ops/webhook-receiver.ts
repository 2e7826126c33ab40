import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../gateway/webhooks/webhook-signature';

export interface Received {
  type: string;
  deliveryId: string;
  attempt: number;
  body: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
  /** The receiver's own signature check, as a real receiver would run it. */
  check: ReturnType<typeof verifyWebhook>;
  raw: string;
  signature: string;
}

/**
 * A webhook receiver on loopback, speaking plain HTTP as a real one would: it verifies each request's signature
 * with the secret it was given and answers with `status(req)` (or never, for `hang`).
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  secret = '';
  mode: 'ok' | 'fail' | 'hang' = 'ok';
  /** Answer 500 to the first n requests, then 200. */
  failFirst = 0;
  private readonly hanging: ServerResponse[] = [];
  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    let self: WebhookReceiver | undefined;
    const server = createServer((req, res) => void self?.handle(req, res));
    self = new WebhookReceiver(server);
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', () => ok()));
    return self;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const signature = String(req.headers['x-pingw-signature'] ?? '');
    this.received.push({
      type: String(req.headers['x-pingw-event']),
      deliveryId: String(req.headers['x-pingw-delivery']),
      attempt: Number(req.headers['x-pingw-attempt']),
      body: JSON.parse(raw) as Received['body'],
      check: verifyWebhook(this.secret, signature, raw, Math.floor(Date.now() / 1000)),
      raw,
      signature,
    });
    if (this.mode === 'hang') {
      this.hanging.push(res);
      return;
    }
    const fail = this.mode === 'fail' || this.failFirst > 0;
    if (this.failFirst > 0) this.failFirst--;
    res.writeHead(fail ? 500 : 204).end();
  }

  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((ok) => this.server.close(() => ok()));
  }
}
