/** Which rotation gate a page is about: (fleet, host, pin), the target, and the at-risk page cursor. */
export interface RotationTarget {
  readonly fleet: string;
  readonly host: string;
  readonly pin: string;
  readonly cursor: string;
  /** The coverage target in percent (default 95). */
  readonly target?: number;
}

export function rotationUrl(t: Omit<RotationTarget, 'cursor'>, cursor = '', path = '/rotation'): string {
  const p = new URLSearchParams({ fleet: t.fleet, host: t.host, pin: t.pin });
  if (t.target !== undefined) p.set('target', String(t.target));
  if (cursor !== '') p.set('cursor', cursor);
  return `${path}?${p.toString()}`;
}
