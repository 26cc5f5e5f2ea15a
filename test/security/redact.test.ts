/** Redaction: what it scrubs, what it leaves, and that it stays linear on hostile input (it runs on every reason and log line). */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadMapping } from '../../src/mapping/index.js';
import { redact, registerSecret } from '../../src/redact.js';

describe('redact', () => {
  it('scrubs emails, phone numbers, bearer tokens, JWTs, secret assignments and registered secrets', () => {
    registerSecret('s3cr3t-VALUE-42');
    const cases: Array<[string, string]> = [
      ['bounce for john.doe+news@example.co.uk today', 'bounce for [email] today'],
      ['to=jane_1@mail.example.org,', 'to=[email],'],
      ['sms to +44 7700 900123 failed', 'sms to [phone] failed'],
      ['sms to 0491570156 failed', 'sms to [phone] failed'],
      ['Authorization: Bearer abc.def-123_x', 'Authorization: Bearer [redacted]'],
      ['token eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl seen', 'token [redacted-token] seen'],
      ['client_secret=abc123&x=1', 'client_secret=[redacted]&x=1'],
      ['{"access_token":"zzz","n":1}', '{"access_token":"[redacted]","n":1}'],
      ['IMS said s3cr3t-VALUE-42 is wrong', 'IMS said [redacted] is wrong'],
    ];
    for (const [input, expected] of cases) expect(redact(input)).toBe(expected);
  });

  it('leaves the IMS org id, ids, timestamps, SMTP codes and Twilio codes readable', () => {
    for (const text of [
      'org 0123456789ABCDEF01234567@AdobeOrg',
      'event 3f2b8c1e-1b7a-5f0e-9a3c-2d1e0f9a8b7c',
      'at 2024-05-01T10:20:30.000Z',
      'SMTP 5.1.1 user unknown; Twilio 30003',
      'line 17: Unexpected token',
      "bad time in Updated: '2024-13-45 25:00' is not a valid calendar date and time",
      'sent 2024-05-06 08:00:00 and 2024-05-06T08:00:00Z',
    ]) {
      expect(redact(text)).toBe(text);
    }
  });

  it('takes linear time on long runs without a match (a 300 KB field once took minutes)', () => {
    const n = 300_000;
    const hostile = [
      'x'.repeat(n),
      '1'.repeat(n),
      'a@' + 'b'.repeat(n),
      'a@'.repeat(n / 2),
      'a.'.repeat(n / 2),
      'token' + ' '.repeat(n),
      'eyJ' + 'a'.repeat(n),
      '1 '.repeat(n / 2),
      '%+-.'.repeat(n / 4),
    ];
    for (const text of hostile) {
      const started = performance.now();
      redact(text);
      expect(performance.now() - started, text.slice(0, 20)).toBeLessThan(250);
    }
  });

  it('a reason that quotes and shortens a value redacts it before cutting (a cut address is no longer recognised)', () => {
    const mapper = loadMapping(join(import.meta.dirname, '..', '..', 'mappings', 'ovo-feedback.json'), { source: 'ovo-feedback' });
    const result = mapper.map({
      commId: 'c-1',
      status: 'Delivered',
      channel: 'Email',
      metadata: { eventId: 'e-1', traceToken: 't', createdAt: 'call +44 7700 900461 or bob_smith+promo@mail.example.co.uk' },
    });
    expect(result.kind).toBe('invalid');
    const reason = (result as { reason: string }).reason;
    expect(reason).toMatch(/^bad time in metadata\.createdAt: 'call \[phone\] or \[email\]' is not a time/);
    expect(reason).not.toMatch(/bob_smith/);
  });
});
