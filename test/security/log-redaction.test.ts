/** The logger scrubs personal data and secrets from messages and from fields at any depth, in its JSON lines. */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';

function capture(): { lines: string[]; log: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, log: createLogger({ level: 'debug', destination: { write: (s: string) => lines.push(s) } }) };
}

describe('log redaction', () => {
  it('scrubs messages, format arguments, error messages and string fields', () => {
    const { lines, log } = capture();
    log.warn('retrying for jane@example.com and %s', '+44 7700 900461');
    log.error({ err: new Error('IMS said Bearer abc.def.ghi for jane@example.com') }, 'failed');
    log.info({ headers: { authorization: 'Bearer zzz' }, client_secret: 'p4ss' }, 'request');
    const text = lines.join('');
    expect(text).not.toMatch(/jane@example\.com|7700 900461|abc\.def\.ghi|zzz|p4ss/);
    expect(text).toMatch(/\[email\]/);
  });

  it('scrubs fields nested deeper than the walk goes (they used to pass through untouched)', () => {
    const { lines, log } = capture();
    log.info({ a: { b: { c: { d: { e: { f: 'jane@example.com', g: ['+44 7700 900461'] } } } } } }, 'deep');
    log.info({ list: [[[[['bob@example.org']]]]] }, 'arrays');
    const cyclic: Record<string, unknown> = { email: 'carol@example.net' };
    cyclic.self = { a: { b: { c: { d: cyclic } } } };
    log.info({ cyclic }, 'cycle');
    const text = lines.join('');
    expect(text).not.toMatch(/jane@example\.com|7700 900461|bob@example\.org|carol@example\.net/);
    expect(lines).toHaveLength(3);
  });
});
