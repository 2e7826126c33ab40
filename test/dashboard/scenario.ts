/**
 * Shared test constants for the dashboard tests on the real gateway: pins of three keys (A, B, C), the host they
 * pin, and device-supplied strings that try to break out of HTML (firmware, host name).
 */
import { createHash } from 'node:crypto';

export const pin = (name: string) => `sha256/${createHash('sha256').update(name).digest('base64')}`;
export const PIN_A = pin('key A');
export const PIN_B = pin('key B');
export const PIN_C = pin('key C');
export const HOST = 'api.example.com';
export const XSS_FIRMWARE = '<script>window.__xss=1</script>';
/** A device-supplied host name that tries to break out of an attribute. */
export const XSS_HOST = 'evil"><img src=x onerror=window.__xss=2>';
