import { createPublicKey } from 'node:crypto';
import { formatPin, pinFromCertificate, pinFromSpki } from '../../pins/pin';
import { fetchServerPins } from '../../pins/server-pins';
import { type ParsedArgs, flag } from '../args';
import type { CliIo } from '../io';
import { readBytes } from '../read-input';
import { EXIT_OK, UsageError } from '../usage-error';

/** `pinctl pin CERT.pem|CERT.der|KEY.pub` or `pinctl pin --host HOST:PORT [--servername N] [--chain]`. */
export async function pin(args: ParsedArgs, io: CliIo): Promise<number> {
  const hostPort = flag(args, 'host');
  if (hostPort !== undefined) {
    const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(hostPort);
    if (!m) throw new UsageError(`--host ${hostPort} must be HOST:PORT`);
    const host = (m[1] as string).replace(/^\[|\]$/g, '');
    const port = Number(m[2]);
    if (port < 1 || port > 65535) throw new UsageError(`--host port ${port} must be 1..65535`);
    const servername = flag(args, 'servername');
    const timeout = Number(flag(args, 'timeout') ?? 5000);
    let served;
    try {
      served = await fetchServerPins(host, port, { timeoutMs: timeout, ...(servername ? { servername } : {}) });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    if (args.flags.get('chain') === true) served.chain.forEach((p, i) => io.out(`${formatPin(p)} ${i === 0 ? 'leaf' : `chain[${i}]`}`));
    else io.out(formatPin(served.leaf));
    return EXIT_OK;
  }
  const [path, ...extra] = args.positional;
  if (path === undefined || extra.length > 0) throw new UsageError('pin takes one CERT.pem|CERT.der file, or --host HOST:PORT');
  const bytes = readBytes(path, 'certificate');
  const text = Buffer.from(bytes).toString('latin1');
  try {
    if (text.includes('-----BEGIN PUBLIC KEY-----')) {
      const spki = createPublicKey(text).export({ type: 'spki', format: 'der' });
      io.out(formatPin(pinFromSpki(new Uint8Array(spki))));
    } else {
      io.out(formatPin(pinFromCertificate(text.includes('-----BEGIN') ? text : bytes)));
    }
  } catch (e) {
    throw new UsageError(`${path}: ${(e as Error).message}`);
  }
  return EXIT_OK;
}
