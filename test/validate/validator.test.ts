import fc from 'fast-check';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { describe, expect, it } from 'vitest';
import type { XdmEvent } from '../../src/core/types.js';
import { isDateTime } from '../../src/validate/formats.js';
import { createValidator, MAX_EVENT_BYTES } from '../../src/validate/index.js';
import { cjm, fixtureEvent } from './fixtures.js';

const validator = createValidator();
const P = '/_experience/customerJourneyManagement';
const ALL_STATUSES = 'error, exclude, sent, bounce, delay, duplicate, denylist, delivered, read, unknown';

function errorsOf(event: XdmEvent): string[] {
  const errors = validator.validate(event);
  expect(errors, 'the event should be invalid').not.toBeNull();
  return errors ?? [];
}

function bytes(event: XdmEvent): number {
  return Buffer.byteLength(JSON.stringify(event));
}

describe('createValidator with the default schema', () => {
  it('accepts the two realistic events of xdm-schemas.md §7', () => {
    expect(validator.validate(fixtureEvent('email-hard-bounce'))).toBeNull();
    expect(validator.validate(fixtureEvent('sms-delay'))).toBeNull();
  });

  it('accepts a message.tracking event (click) with the message-interaction field group', () => {
    const event = fixtureEvent('email-hard-bounce');
    event.eventType = 'message.tracking';
    const c = cjm(event);
    delete c.messageDeliveryfeedback;
    c.messageInteraction = { interactionType: 'click', url: 'https://example.com/offer', urlID: 'u-1', label: 'offer' };
    expect(validator.validate(event)).toBeNull();
  });

  it('rejects a feedbackStatus outside the enum and lists the allowed values', () => {
    const event = fixtureEvent('email-hard-bounce');
    cjm(event).messageDeliveryfeedback.feedbackStatus = 'hard_bounce';
    expect(errorsOf(event)).toEqual([
      `${P}/messageDeliveryfeedback/feedbackStatus: must be equal to one of the allowed values: ${ALL_STATUSES} (got "hard_bounce")`,
    ]);
  });

  it('rejects a retryCount given as a string', () => {
    const event = fixtureEvent('sms-delay');
    cjm(event).messageDeliveryfeedback.retryCount = '2';
    expect(errorsOf(event)).toEqual([`${P}/messageDeliveryfeedback/retryCount: must be integer (got string "2")`]);
  });

  it('rejects a timestamp without a zone', () => {
    const event = fixtureEvent('email-hard-bounce');
    event.timestamp = '2026-08-20T14:03:11.482';
    expect(errorsOf(event)).toEqual(['/timestamp: must match format "date-time" (got "2026-08-20T14:03:11.482")']);
  });

  it('rejects an _id that is not a URI reference', () => {
    const event = fixtureEvent('email-hard-bounce');
    event._id = 'not a uri';
    expect(errorsOf(event)).toEqual(['/_id: must match format "uri-reference" (got "not a uri")']);
  });

  it('rejects an event without messageExecutionID', () => {
    const event = fixtureEvent('email-hard-bounce');
    delete cjm(event).messageExecution.messageExecutionID;
    expect(errorsOf(event)).toEqual([`${P}/messageExecution/messageExecutionID: required field is missing`]);
  });

  it('rejects an event without messageProfile.channel, and one without messageProfile at all', () => {
    const noChannel = fixtureEvent('email-hard-bounce');
    delete cjm(noChannel).messageProfile.channel;
    expect(errorsOf(noChannel)).toEqual([`${P}/messageProfile/channel: required field is missing`]);
    const noProfile = fixtureEvent('sms-delay');
    delete cjm(noProfile).messageProfile;
    expect(errorsOf(noProfile)).toEqual([`${P}/messageProfile: required field is missing`]);
  });

  it('rejects a bad email address without echoing personal data', () => {
    const event = fixtureEvent('email-hard-bounce');
    cjm(event).emailChannelContext.address = 'jane.doe at example.com';
    expect(errorsOf(event)).toEqual([
      `${P}/emailChannelContext/address: must match format "email" (got "jane.doe at example.com")`,
    ]);
    const leaky = fixtureEvent('email-hard-bounce');
    leaky._id = 'mailto jane.doe@example.com';
    const lines = errorsOf(leaky);
    expect(lines).toEqual(['/_id: must match format "uri-reference" (got "mailto [email]")']);
  });

  it('rejects a misspelt key as not a field of the schema', () => {
    const event = fixtureEvent('email-hard-bounce');
    const feedback = cjm(event).messageDeliveryfeedback;
    feedback.feedbackStatuss = feedback.feedbackStatus;
    delete feedback.feedbackStatus;
    expect(errorsOf(event)).toEqual([
      `${P}/messageDeliveryfeedback/feedbackStatuss: is not a field of the schema (misspelt or undefined key)`,
    ]);
  });

  it('rejects a null value once, naming its path', () => {
    const event = fixtureEvent('email-hard-bounce');
    cjm(event).messageExecution.messageID = null;
    expect(errorsOf(event)).toEqual([
      `${P}/messageExecution/messageID: must not be null (AEP rejects null values; omit the field)`,
    ]);
  });

  it('rejects an empty string, an empty object and an empty array', () => {
    const event = fixtureEvent('email-hard-bounce');
    cjm(event).messageExecution.journeyVersionID = '';
    cjm(event).messageDeliveryfeedback.messageExclusion = {};
    cjm(event).messageExecution.fragmentPublicationIDs = [];
    expect(errorsOf(event).sort()).toEqual(
      [
        `${P}/messageExecution/journeyVersionID: must not be an empty string (AEP rejects empty values; omit the field)`,
        `${P}/messageDeliveryfeedback/messageExclusion: must not be an empty object (AEP rejects empty values; omit the field)`,
        `${P}/messageExecution/fragmentPublicationIDs: must not be an empty array (AEP rejects empty values; omit the field)`,
      ].sort(),
    );
  });

  it('rejects non-finite numbers, which JSON would turn into null', () => {
    const event = fixtureEvent('sms-delay');
    cjm(event).messageDeliveryfeedback.responseDurationMillis = Number.NaN;
    expect(errorsOf(event)).toContain(`${P}/messageDeliveryfeedback/responseDurationMillis: must be a finite number (got NaN)`);
  });

  it('reports every problem of an event at once', () => {
    const event = fixtureEvent('email-hard-bounce');
    event.timestamp = 'yesterday';
    cjm(event).messageDeliveryfeedback.feedbackStatus = 'hard_bounce';
    cjm(event).messageDeliveryfeedback.retryCount = '2';
    delete cjm(event).messageExecution.messageExecutionID;
    cjm(event).emailChannelContext.domain = null;
    expect(errorsOf(event)).toHaveLength(5);
    // and the next valid event is still valid (no state leaks between calls)
    expect(validator.validate(fixtureEvent('email-hard-bounce'))).toBeNull();
  });

  it('rejects an event over 10,240 bytes serialised and says its size', () => {
    const event = fixtureEvent('email-hard-bounce');
    cjm(event).messageDeliveryfeedback.messageFailure.reason = 'x'.repeat(11_000);
    expect(errorsOf(event)).toEqual([
      `/: event is ${bytes(event)} bytes serialised, over Profile's ExperienceEvent limit of 10240 bytes`,
    ]);
  });

  it('accepts an event of exactly 10,240 bytes and rejects one byte more', () => {
    const event = fixtureEvent('email-hard-bounce');
    const failure = cjm(event).messageDeliveryfeedback.messageFailure;
    failure.reason = '';
    failure.reason = 'r'.repeat(MAX_EVENT_BYTES - bytes(event));
    expect(bytes(event)).toBe(MAX_EVENT_BYTES);
    expect(validator.validate(event)).toBeNull();
    failure.reason += 'r';
    expect(errorsOf(event)).toEqual([
      `/: event is 10241 bytes serialised, over Profile's ExperienceEvent limit of 10240 bytes`,
    ]);
  });

  it('counts UTF-8 bytes and JSON escapes, not characters', () => {
    const event = fixtureEvent('email-hard-bounce');
    const failure = cjm(event).messageDeliveryfeedback.messageFailure;
    failure.reason = 'é'.repeat(4000); // 8,000 bytes: under the limit although its 6-bytes-per-unit bound is not
    expect(validator.validate(event)).toBeNull();
    failure.reason = 'é'.repeat(5000); // 10,000 bytes of text alone
    expect(errorsOf(event)[0]).toBe(`/: event is ${bytes(event)} bytes serialised, over Profile's ExperienceEvent limit of 10240 bytes`);
    failure.reason = '\u0001'.repeat(1700); // 1,700 characters, but each escapes to \u0001: 10,200 bytes
    expect(errorsOf(event)[0]).toMatch(/^\/: event is \d+ bytes serialised/);
  });

  it('honours a custom size limit', () => {
    const small = createValidator({ maxEventBytes: 500 });
    expect(small.validate(fixtureEvent('sms-delay'))?.[0]).toMatch(/over Profile's ExperienceEvent limit of 500 bytes$/);
  });
});

describe('the date-time format', () => {
  const reference = (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate;
  const d = (min: number, max: number) => fc.integer({ min, max }).map((n) => String(n).padStart(2, '0'));

  it('agrees with ajv-formats full-mode date-time on date-time-shaped strings', () => {
    const shaped = fc
      .tuple(
        fc.integer({ min: 0, max: 9999 }).map((n) => String(n).padStart(4, '0')),
        d(0, 13),
        d(0, 32),
        fc.constantFrom('T', 't', ' ', 'x'),
        d(0, 25),
        d(0, 61),
        d(0, 61),
        fc.constantFrom('', '.5', '.123456', '.'),
        fc.oneof(
          fc.constantFrom('Z', 'z', '', 'Z ', 'UTC'),
          fc.tuple(fc.constantFrom('+', '-'), d(0, 25), fc.constantFrom(':', ''), d(0, 61)).map((p) => p.join('')),
          fc.tuple(fc.constantFrom('+', '-'), d(0, 25)).map((p) => p.join('')),
        ),
      )
      .map(([y, mo, da, sep, h, mi, s, frac, zone]) => `${y}-${mo}-${da}${sep}${h}:${mi}:${s}${frac}${zone}`);
    fc.assert(fc.property(shaped, (s) => isDateTime(s) === reference(s)), { numRuns: 20_000 });
  });

  it('agrees with ajv-formats on arbitrary strings and on the edge cases', () => {
    fc.assert(fc.property(fc.string(), (s) => isDateTime(s) === reference(s)), { numRuns: 5_000 });
    for (const s of [
      '2024-02-29T00:00:00Z',
      '2023-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2000-02-29T00:00:00Z',
      '2026-08-20T23:59:60Z',
      '2026-08-20T22:59:60-01:00',
      '2026-08-20T23:59:60+01:00',
      '2026-08-20T14:03:11.482+0530',
      '2026-08-20T14:03:11+05',
      '2026-04-31T00:00:00Z',
      '2026-08-20T14:03:11.482',
    ]) {
      expect(isDateTime(s), s).toBe(reference(s));
    }
  });
});

describe('remembered format checks', () => {
  it('give the same verdict as the check they wrap, for new and repeated strings alike (property)', async () => {
    const { remembered } = await import('../../src/validate/formats.js');
    const { createRequire } = await import('node:module');
    const { fullFormats } = createRequire(import.meta.url)('ajv-formats/dist/formats') as { fullFormats: { uri: (s: string) => boolean } };
    let calls = 0;
    const counted = (s: string) => {
      calls++;
      return fullFormats.uri(s);
    };
    const check = remembered(counted, 8);
    const samples = fc.oneof(fc.webUrl(), fc.string(), fc.constantFrom('https://ns.adobe.com/xdm/channels/email', 'not a uri', 'mailto:x', ''));
    fc.assert(fc.property(fc.array(samples, { maxLength: 40 }), (list) => list.every((s) => check(s) === fullFormats.uri(s) && check(s) === fullFormats.uri(s))), { numRuns: 300 });
    calls = 0;
    for (let i = 0; i < 100; i++) check('https://ns.adobe.com/xdm/channels/sms');
    expect(calls).toBeLessThanOrEqual(1);
  });
});
