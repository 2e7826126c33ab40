/**
 * drizzle's migrators (SQLite and PostgreSQL) apply a migration only when its journal time (`when`) is later than
 * the last one the database recorded: a migration merged with an earlier `when` than one already applied would be
 * skipped for ever on an existing database. Journal times must therefore rise with the index, in both dialects.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const journal = (dialect: string) =>
  JSON.parse(readFileSync(new URL(`../../gateway/registry/${dialect}/migrations/meta/_journal.json`, import.meta.url), 'utf8')) as {
    entries: { idx: number; when: number; tag: string }[];
  };

describe('migration journals', () => {
  for (const dialect of ['sqlite', 'postgres']) {
    it(`${dialect}: indexes 0…n in order, tags numbered by index, times strictly rising`, () => {
      const { entries } = journal(dialect);
      expect(entries.map((e) => e.idx)).toEqual(entries.map((_, i) => i));
      for (const e of entries) expect(e.tag.startsWith(String(e.idx).padStart(4, '0') + '_')).toBe(true);
      for (let i = 1; i < entries.length; i++) expect(entries[i]!.when, entries[i]!.tag).toBeGreaterThan(entries[i - 1]!.when);
      const files = entries.map((e) => readFileSync(new URL(`../../gateway/registry/${dialect}/migrations/${e.tag}.sql`, import.meta.url), 'utf8'));
      expect(files.every((sql) => sql.length > 0)).toBe(true);
    });
  }
});
