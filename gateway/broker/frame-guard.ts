import type { Duplex } from 'node:stream';

/**
 * Refuses oversized MQTT packets before the broker buffers them. aedes' parser accepts any Remaining Length up
 * to 256 MB (MQTT 3.1.1 §2.2.3); this guard follows the fixed headers of the byte stream the broker reads and
 * destroys the connection as soon as a packet announces more than `maxRemainingLength` bytes.
 *
 * It listens to 'data', which a stream in paused mode ('readable' + read(), as aedes reads) emits from read()
 * before the bytes reach the parser; it never consumes bytes itself.
 */
export function guardFrameSize(conn: Duplex, maxRemainingLength: number, onOversize: (announced: number) => void): void {
  let state: 'header' | 'length' | 'body' = 'header';
  let length = 0;
  let multiplier = 1;
  let remaining = 0;
  conn.on('data', (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length) {
      if (state === 'header') {
        i++; // packet type and flags
        state = 'length';
        length = 0;
        multiplier = 1;
      } else if (state === 'length') {
        const byte = chunk[i++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if (length > maxRemainingLength || (byte & 0x80 && multiplier > 128 ** 3)) {
          onOversize(length);
          conn.destroy();
          return;
        }
        if ((byte & 0x80) === 0) {
          remaining = length;
          state = remaining === 0 ? 'header' : 'body';
        }
      } else {
        const take = Math.min(remaining, chunk.length - i);
        i += take;
        remaining -= take;
        if (remaining === 0) state = 'header';
      }
    }
  });
}
