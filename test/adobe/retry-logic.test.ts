import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  classifyMessage,
  classifyResponse,
  isRetryableNetworkError,
  messageStatus,
  parseRetryAfter,
} from '../../src/adobe/retry-logic.js';

describe('classifyResponse', () => {
  it('treats 200 and 201 without per-message results as ok', () => {
    expect(classifyResponse(200, { inletId: 'x' })).toBe('ok');
    expect(classifyResponse(201, undefined)).toBe('ok');
  });

  it('treats 207, and a 2xx carrying responses[], as partial', () => {
    expect(classifyResponse(207, { responses: [] })).toBe('partial');
    expect(classifyResponse(207, undefined)).toBe('partial');
    expect(classifyResponse(200, { responses: [{ xactionId: 'a' }] })).toBe('partial');
  });

  it.each([408, 429, 500, 502, 503, 504])('retries %i', (status) => {
    expect(classifyResponse(status, undefined)).toBe('retry');
  });

  it('never retries 501 or other 4xx', () => {
    for (const status of [400, 403, 404, 409, 415, 422, 501, 505]) expect(classifyResponse(status, undefined)).toBe('fatal');
  });

  it('splits on 413 and re-authenticates on 401', () => {
    expect(classifyResponse(413, undefined)).toBe('split');
    expect(classifyResponse(401, { status: '401' })).toBe('reauth');
  });

  it('treats redirects and informational answers as fatal', () => {
    expect(classifyResponse(302, undefined)).toBe('fatal');
    expect(classifyResponse(100, undefined)).toBe('fatal');
  });
});

describe('per-message results of a 207', () => {
  it('reads statusCode, status, and status as a string', () => {
    expect(messageStatus({ statusCode: 400 })).toBe(400);
    expect(messageStatus({ status: 400, xactionId: 'x-0' })).toBe(400);
    expect(messageStatus({ status: '503' })).toBe(503);
    expect(messageStatus({ xactionId: 'a' })).toBeUndefined();
  });

  it('accepts entries without a status, with or without an xactionId', () => {
    expect(classifyMessage({ xactionId: '1:2:3:0' })).toBe('accepted');
    expect(classifyMessage({})).toBe('accepted');
    expect(classifyMessage({ status: 200 })).toBe('accepted');
  });

  it('rejects per-message 4xx and retries per-message 429 and 5xx', () => {
    expect(classifyMessage({ statusCode: 400, message: 'Message has unknown xdm format' })).toBe('rejected');
    expect(classifyMessage({ status: 403 })).toBe('rejected');
    expect(classifyMessage({ statusCode: 429 })).toBe('retry');
    expect(classifyMessage({ status: 500 })).toBe('retry');
    expect(classifyMessage({ status: 503 })).toBe('retry');
  });

  it('retries entries that are not objects rather than guessing', () => {
    expect(classifyMessage(null)).toBe('retry');
    expect(classifyMessage('ok')).toBe('retry');
  });
});

describe('network errors', () => {
  it('retries resets, refusals, timeouts and hang-ups', () => {
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EPIPE', 'REQUEST_TIMEOUT', 'CONNECT_TIMEOUT', 'EAI_AGAIN']) {
      expect(isRetryableNetworkError(code)).toBe(true);
    }
    expect(isRetryableNetworkError(undefined, 'socket hang up')).toBe(true);
    expect(isRetryableNetworkError('ERR_BAD_RESPONSE', 'timeout of 30000ms exceeded')).toBe(true);
  });

  it('does not retry certificate failures', () => {
    expect(isRetryableNetworkError('DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate')).toBe(false);
    expect(isRetryableNetworkError('CERT_HAS_EXPIRED', 'certificate has expired')).toBe(false);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delta-seconds as milliseconds', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
  });

  it('reads an HTTP date relative to now, and a past date as zero', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });

  it('returns undefined for absent or unparseable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('12abc', now)).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  const opts = { baseMs: 100, maxMs: 1000 };

  it('draws uniformly below an exponential ceiling (full jitter)', () => {
    expect(backoffDelay(1, opts, undefined, () => 0.999)).toBe(99);
    expect(backoffDelay(2, opts, undefined, () => 0.999)).toBe(199);
    expect(backoffDelay(3, opts, undefined, () => 0.5)).toBe(200);
    expect(backoffDelay(3, opts, undefined, () => 0)).toBe(0);
  });

  it('never exceeds the cap, however many attempts', () => {
    for (const attempt of [5, 10, 50, 1000]) expect(backoffDelay(attempt, opts, undefined, () => 0.999999)).toBeLessThan(1000);
  });

  it('honours Retry-After as a floor, even above the cap', () => {
    expect(backoffDelay(1, opts, 5000, () => 0.5)).toBe(5000);
    expect(backoffDelay(10, opts, 10, () => 0.9)).toBe(900);
  });
});
