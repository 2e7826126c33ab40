import { z } from 'zod';

/**
 * The allowed alphabet of every identifier and name the API stores (issue 17). Each one is shown on the
 * dashboard, written to logs and the audit, and some are more than text:
 *  - a device id is an MQTT topic level (`pins/v1/{deviceId}/…`, SPEC §6) and a file name in the simulator, so it
 *    is ASCII letters, digits and `._-`, starts with a letter or digit (never "." or "..", never a hidden file or
 *    a CLI option), 1–128 characters; `+`, `#` and `/` cannot occur, so it can never be a wildcard or a level split;
 *  - a fleet and a device class appear in URL paths and in hello messages: the same ASCII alphabet, 1–64;
 *  - a label and a token name are free text for people: Unicode letters, digits, marks, and ` ._:/=@+-`, 1–64,
 *    no leading/trailing space. Controls (NUL, CR/LF, ESC, DEL), bidi overrides and zero-width characters are
 *    never letters, so a stored name cannot hide or reorder what an operator reads.
 * Anything else is refused with 400 E_BAD_BODY / E_BAD_QUERY naming the field.
 */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const SLUG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const LABEL_PATTERN = /^[\p{L}\p{N}](?:[\p{L}\p{N}\p{M} ._:/=@+-]{0,62}[\p{L}\p{N}\p{M}._:/=@+-])?$/u;

export const deviceId = z.string().regex(DEVICE_ID_PATTERN, 'device ids are 1–128 of A-Z a-z 0-9 . _ -, starting with a letter or digit');
export const slug = z.string().regex(SLUG_PATTERN, 'expected 1–64 of A-Z a-z 0-9 . _ -, starting with a letter or digit');
export const label = z
  .string()
  .regex(LABEL_PATTERN, 'expected 1–64 letters, digits or " ._:/=@+-" (no control, bidi or zero-width characters)');
