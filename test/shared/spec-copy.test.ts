import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// docs/spec.md and docs/library-notes.md are copies of the documents handed to the project in ../shared/, so that
// every comment citing them resolves inside the repository. They must not drift from the originals.
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const pairs = [
  ['../../docs/spec.md', '../../../shared/SPEC.md'],
  ['../../docs/library-notes.md', '../../../shared/LIBRARY-NOTES.md'],
] as const;

describe('copies of the shared documents', () => {
  for (const [copy, original] of pairs) {
    it(`${copy} equals ${original} (below its header comment)`, () => {
      expect(existsSync(here(original)), `${original} is missing: the project expects ../shared/ beside it`).toBe(true);
      const text = readFileSync(here(copy), 'utf8');
      const body = text.slice(text.indexOf('-->') + 3).replace(/^\n+/, '');
      expect(body).toBe(readFileSync(here(original), 'utf8'));
    });
  }
});
