/**
 * Installed-set keys of the coverage counters besides an envelope SHA-256 (devices.counted_installed): 'none' =
 * said hello with nothing installed, 'unknown' = never said hello. The rotation gate reads them back.
 */
export const INSTALLED_NONE = 'none';
export const INSTALLED_UNKNOWN = 'unknown';
