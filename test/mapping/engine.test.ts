// The mapping engine's behaviour beyond the golden cases: ids, identities, options, merging, stats, robustness.
import { join } from 'node:path';
import fc from 'fast-check';
import { v5 } from 'uuid';
import { describe, expect, test } from 'vitest';
import type { JsonObject, JsonValue, MapResult, MappedEvent } from '../../src/core/types.js';
import { compileMappingDocument, EVENT_ID_NAMESPACE, eventIdFor, loadMapping, type MappingOptions } from '../../src/mapping/index.js';
import { createValidator } from '../../src/validate/index.js';
import { baseMapping } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const validator = createValidator();

const mapperOf = (doc: Record<string, unknown>, options: MappingOptions = {}) => compileMappingDocument(doc, options);
const record = (extra: JsonObject = {}): JsonObject => ({ id: 'ev-1', status: 'Delivered', time: '2024-05-01T10:00:00Z', messageId: 'm-1', ...extra });

function mapped(result: MapResult): MappedEvent {
  if (result.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result.mapped;
}
const cjmOf = (m: MappedEvent) => (m.event._experience as JsonObject).customerJourneyManagement as Record<string, JsonObject>;

describe('event ids', () => {
  test('the namespace is UUID v5 of urn:xdm-feedback:event-id in the URL namespace, as documented', () => {
    expect(v5('urn:xdm-feedback:event-id', v5.URL)).toBe(EVENT_ID_NAMESPACE);
  });

  test('_id is UUID v5 of <source>:<sourceEventId>, stable across runs and distinct per source', () => {
    const a = mapped(mapperOf(baseMapping()).map(record()));
    expect(a.event._id).toBe(v5('test-feed:ev-1', EVENT_ID_NAMESPACE));
    expect(a.event._id).toBe(eventIdFor('test-feed', 'ev-1'));
    expect(mapped(mapperOf(baseMapping()).map(record())).event._id).toBe(a.event._id);
    const other = mapped(mapperOf(baseMapping(), { source: 'renamed' }).map(record()));
    expect(other.event._id).toBe(v5('renamed:ev-1', EVENT_ID_NAMESPACE));
  });

  test('the configured source name overrides the mapping file and is reported by the mapper', () => {
    const mapper = loadMapping(join(ROOT, 'mappings', 'masstack.json'), { source: 'masstack-eu' });
    expect(mapper.source).toBe('masstack-eu');
    expect(mapper.mappingFile).toMatch(/mappings\/masstack\.json$/);
    expect(loadMapping(join(ROOT, 'mappings', 'masstack.json')).source).toBe('masstack');
  });
});

describe('identities', () => {
  test('the customer id goes under the configured namespace and is primary; email and phone follow', () => {
    const m = mapped(
      mapperOf(baseMapping(), { identityNamespace: 'ECID-CRM' }).map(record({ customer: 42, email: ' a@example.com ', phone: '+44 7700 900123' })),
    );
    expect(m.event.identityMap).toEqual({
      'ECID-CRM': [{ id: '42', primary: true }],
      Email: [{ id: 'a@example.com' }],
      Phone: [{ id: '+447700900123' }],
    });
  });

  test('without a customer id the email is primary; an invalid email is left out of identities and the address', () => {
    const m = mapped(mapperOf(baseMapping()).map(record({ email: 'b@example.com' })));
    expect(m.event.identityMap).toEqual({ Email: [{ id: 'b@example.com', primary: true }] });
    expect(cjmOf(m).emailChannelContext).toEqual({ address: 'b@example.com' });
    const bad = mapped(mapperOf(baseMapping()).map(record({ email: 'not-an-email' })));
    expect(bad.event.identityMap).toBeUndefined();
    expect(cjmOf(bad).emailChannelContext).toBeUndefined();
    expect(validator.validate(bad.event)).toBeNull();
  });

  test('national phone numbers become E.164 with the country code, and numbers that cannot are dropped', () => {
    const phone = (p: JsonValue, cc?: JsonValue) =>
      mapped(mapperOf(baseMapping()).map(record({ channel: 'sms', phone: p, ...(cc !== undefined ? { cc } : {}) }))).event.identityMap;
    expect(phone('666123123', 34)).toEqual({ Phone: [{ id: '+34666123123', primary: true }] });
    expect(phone('07700 900123', '+44')).toEqual({ Phone: [{ id: '+447700900123', primary: true }] });
    expect(phone('0044 7700 900123')).toEqual({ Phone: [{ id: '+447700900123', primary: true }] });
    expect(phone('07700 900123')).toBeUndefined();
    expect(phone('+12')).toBeUndefined();
  });
});

describe('options and outcomes', () => {
  test('deliveredAs "sent" turns delivered into sent everywhere, including the SMS status', () => {
    const m = mapped(mapperOf(baseMapping(), { deliveredAs: 'sent' }).map(record({ channel: 'sms' })));
    expect(cjmOf(m).messageDeliveryfeedback).toEqual({ feedbackStatus: 'sent', retryCount: 0 });
    expect(cjmOf(m).smsChannelContext).toEqual({ status: { feedbackStatus: 'sent', providerFeedbackStatus: 'Delivered' } });
    expect(m.outcome.status).toBe('sent');
  });

  test('the provider attempt number is passed on; one that is not a positive integer is ignored', () => {
    expect(mapped(mapperOf(baseMapping()).map(record({ attempt: 3 }))).outcome.attempt).toBe(3);
    expect(mapped(mapperOf(baseMapping()).map(record({ attempt: '2' }))).outcome.attempt).toBe(2);
    expect(mapped(mapperOf(baseMapping()).map(record({ attempt: 0 }))).outcome.attempt).toBeUndefined();
    expect(mapped(mapperOf(baseMapping()).map(record({ attempt: 'x' }))).outcome.attempt).toBeUndefined();
  });

  test('isTest accepts booleans and their usual spellings, and is left out otherwise', () => {
    const t = (v: JsonValue) => (cjmOf(mapped(mapperOf(baseMapping()).map(record({ test: v })))).messageProfile as JsonObject).isTestExecution;
    expect(t(true)).toBe(true);
    expect(t('false')).toBe(false);
    expect(t('maybe')).toBeUndefined();
  });

  test('delays and soft failures count as retries; hard failures, duplicates and exclusions do not', () => {
    const doc = baseMapping({
      statuses: {
        Delay: { feedbackStatus: 'delay', failure: { type: 'soft' } },
        Soft: { feedbackStatus: 'bounce', failure: { type: 'soft' } },
        Hard: { feedbackStatus: 'bounce', failure: { type: 'hard' } },
        Dup: { feedbackStatus: 'duplicate', failure: { type: 'soft' } },
        Out: { feedbackStatus: 'exclude', exclusion: { code: 'cancelled' } },
      },
    });
    const counts = (status: string) => mapped(mapperOf(doc).map(record({ status }))).outcome.countsAsRetry;
    expect([counts('Delay'), counts('Soft'), counts('Hard'), counts('Dup'), counts('Out')]).toEqual([true, true, false, false, false]);
  });

  test('statuses match exactly first, then ignoring case, then the "*" entry', () => {
    const doc = baseMapping({
      statuses: { open: { interactionType: 'open' }, OPEN: { interactionType: 'click' }, '*': { feedbackStatus: 'unknown', why: 'anything else' } },
    });
    const status = (s: string) => mapped(mapperOf(doc).map(record({ status: s }))).outcome.status;
    expect(status('open')).toBe('open');
    expect(status('OPEN')).toBe('click');
    expect(status('Open')).toBe('open');
    expect(status('Teleported')).toBe('unknown');
  });

  test('a skip says which status was skipped and why', () => {
    const result = mapperOf(baseMapping({ statuses: { Queued: { feedbackStatus: 'skip', why: 'not an outcome' } } })).map(record({ status: 'Queued' }));
    expect(result).toEqual({ kind: 'skip', reason: "status 'Queued' is skipped: not an outcome" });
  });

  test('a classifier can decide the whole outcome (Stannp statuses through one "*" entry)', () => {
    const doc = baseMapping({
      fields: { ...(baseMapping().fields as object), channel: 'direct-mail', failureCode: { '@path': 'status' } },
      statuses: { '*': { feedbackStatus: 'sent', failure: { classifier: 'stannp' } } },
    });
    const mapper = mapperOf(doc);
    const run = (status: string) => mapper.map(record({ status }));
    expect(run('received')).toMatchObject({ kind: 'skip', reason: "status 'received' (stannp 'received') is skipped: not an outcome" });
    expect(cjmOf(mapped(run('returned'))).messageDeliveryfeedback).toEqual({
      feedbackStatus: 'bounce',
      messageFailure: { type: 'Hard', category: 'async', code: 'returned', reason: 'Returned to sender' },
      retryCount: 0,
    });
    expect(cjmOf(mapped(run('cancelled'))).messageDeliveryfeedback).toEqual({ feedbackStatus: 'exclude', messageExclusion: { code: 'cancelled' }, retryCount: 0 });
    expect(cjmOf(mapped(run('handed_over'))).messageDeliveryfeedback).toEqual({ feedbackStatus: 'sent', retryCount: 0 });
    expect(cjmOf(mapped(run('teleported'))).messageDeliveryfeedback).toEqual({ feedbackStatus: 'unknown', retryCount: 0 });
    expect(mapper.stats?.()).toEqual({ 'classifier.stannp.fallback': 1, 'classifier.stannp.fallback.teleported': 1 });
  });
});

describe('the xdm section', () => {
  const doc = baseMapping({
    xdm: {
      eventMergeId: { '@path': 'merge' },
      _experience: {
        customerJourneyManagement: {
          messageExecution: { campaignID: { '@path': 'campaign' }, messageExecutionID: { '@path': 'exec' }, metadata: { '@literal': { k: 'v' } } },
        },
      },
    },
  });

  test('merges deeply into the event and wins where both set a value', () => {
    const m = mapped(mapperOf(doc).map(record({ campaign: 'c-1', exec: 'override', merge: 'mm' })));
    expect(m.event.eventMergeId).toBe('mm');
    expect(cjmOf(m).messageExecution).toEqual({ messageExecutionID: 'override', campaignID: 'c-1', metadata: { k: 'v' } });
    expect(validator.validate(m.event)).toBeNull();
  });

  test('adds nothing for missing values, and never shares objects between events', () => {
    const mapper = mapperOf(doc);
    const a = mapped(mapper.map(record()));
    expect(cjmOf(a).messageExecution).toEqual({ messageExecutionID: 'm-1', metadata: { k: 'v' } });
    ((cjmOf(a).messageExecution as JsonObject).metadata as JsonObject).k = 'changed';
    const b = mapped(mapper.map(record({ id: 'ev-2' })));
    expect(cjmOf(b).messageExecution).toEqual({ messageExecutionID: 'm-1', metadata: { k: 'v' } });
  });
});

describe('stats', () => {
  test('count provider codes that fell back to a classifier default, per classifier', () => {
    const mapper = loadMapping(join(ROOT, 'mappings', 'ovo-feedback.json'));
    const failed = (n: number, description: string) => ({
      commId: `c-${n}`,
      status: 'Failed',
      description,
      channel: 'Email',
      metadata: { eventId: `e-${n}`, createdAt: 1534412400000 },
    });
    mapper.map(failed(1, 'Error: InvalidProfile no email'));
    mapper.map(failed(2, 'Error: BrandNewError odd'));
    mapper.map(failed(3, 'Error: BrandNewError odd'));
    mapper.map(failed(4, 'The Gateway had an error'));
    expect(mapper.stats?.()).toEqual({
      'classifier.ovo-error-codes.fallback': 3,
      'classifier.ovo-error-codes.fallback.BrandNewError': 2,
      'classifier.ovo-error-codes.fallback.(no code)': 1,
    });
  });

  test('are empty when every code was known', () => {
    expect(loadMapping(join(ROOT, 'mappings', 'ovo-v2.json')).stats?.()).toEqual({});
  });
});

describe('robustness', () => {
  /** True when a value holds null, "", {} or [] anywhere (AEP rejects them). */
  function hasEmpty(v: unknown): boolean {
    if (v === null || v === '') return true;
    if (Array.isArray(v)) return v.length === 0 || v.some(hasEmpty);
    if (typeof v === 'object') return Object.keys(v as object).length === 0 || Object.values(v as object).some(hasEmpty);
    return false;
  }

  const json = fc.oneof(fc.constant(null), fc.constant(''), fc.constant('  '), fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant({}), fc.constant([]), fc.dictionary(fc.string(), fc.string()));
  const sources = ['ovo-feedback', 'ovo-v2', 'crisisworks', 'masstack'];

  test.each(sources)('%s never throws and never emits null, empty strings or empty objects, whatever the record holds', (source) => {
    const mapper = loadMapping(join(ROOT, 'mappings', `${source}.json`));
    const keys = ['commId', 'status', 'email', 'channel', 'customer', 'description', 'metadata', 'templateManifest', 'url', 'reason', 'errorCode', 'gateway',
      'Delivery ID', 'Status', 'Updated', 'Delivery Type', 'Recipient', 'Response', 'Reason', 'id', 'statusTime', 'countryCode', 'terminatingNumber', 'destinationEmail', 'campaignId'];
    const metadata = fc.record({ eventId: json, createdAt: fc.oneof(json, fc.constant(1714723200000)), traceToken: json, deliverTo: fc.oneof(json, fc.record({ customerId: json, emailAddress: json })) }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), json), metadata, (rec, meta) => {
        const input = { ...rec, metadata: meta } as JsonObject;
        const result = mapper.map(input);
        expect(['event', 'skip', 'invalid']).toContain(result.kind);
        if (result.kind === 'invalid') expect(result.reason.length).toBeGreaterThan(5);
        if (result.kind === 'event') {
          expect(hasEmpty(result.mapped.event)).toBe(false);
          expect(validator.validate(result.mapped.event)).toBeNull();
        }
      }),
      { numRuns: 300 },
    );
  });

  test('records that satisfy a mapping fully produce valid XDM for any field values', () => {
    const mapper = mapperOf(baseMapping());
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), fc.string(), fc.string(), fc.string(), (id, messageId, email, phone, reason) => {
        const result = mapper.map(record({ id, messageId, email, phone, reason, channel: 'sms' }));
        if (result.kind === 'event') expect(validator.validate(result.mapped.event)).toBeNull();
        else expect(result.kind).toBe('invalid'); // blank ids
      }),
      { numRuns: 300 },
    );
  });
});

describe('values of the xdm section take the type of their XDM field', () => {
  const doc = baseMapping({
    xdm: {
      _experience: {
        customerJourneyManagement: {
          messageDeliveryfeedback: { requestTimestamp: { '@path': 'requested' }, responseCode: { '@path': 'http' } },
          messageExecution: { metadata: { '@path': 'meta' }, messageType: { '@path': 'kind' } },
          messageProfile: { isSendTimeOptimized: { '@path': 'sto' } },
        },
      },
    },
  });
  const run = (extra: JsonObject) => cjmOf(mapped(mapperOf(doc).map(record(extra))));

  test('times become ISO-8601 UTC, numbers and booleans are converted, maps keep their string entries', () => {
    const c = run({ requested: '2024-05-01 09:59:00', http: '250', meta: { a: 'x', b: 7, c: false, d: { e: 1 } }, kind: 'marketing', sto: 'true' });
    expect(c.messageDeliveryfeedback).toEqual({ feedbackStatus: 'delivered', retryCount: 0, requestTimestamp: '2024-05-01T09:59:00.000Z', responseCode: 250 });
    expect(c.messageExecution).toEqual({ messageExecutionID: 'm-1', metadata: { a: 'x', b: '7', c: 'false' }, messageType: 'marketing' });
    expect(c.messageProfile?.isSendTimeOptimized).toBe(true);
  });

  test('delivery feedback fields of the xdm section are not added to tracking events', () => {
    const tracking = { ...doc, statuses: { Opened: { interactionType: 'open' } } };
    const m = mapped(mapperOf(tracking).map(record({ status: 'Opened', requested: '2024-05-01T09:59:00Z', http: 200 })));
    expect(cjmOf(m).messageDeliveryfeedback).toBeUndefined();
    expect(cjmOf(m).messageInteraction).toEqual({ interactionType: 'open' });
  });

  test('values that cannot take the type are left out instead of failing the event', () => {
    const m = mapped(mapperOf(doc).map(record({ requested: 'soon', http: 'OK', meta: { d: { e: 1 } }, kind: 'promotional', sto: 'perhaps' })));
    expect(cjmOf(m).messageDeliveryfeedback).toEqual({ feedbackStatus: 'delivered', retryCount: 0 });
    expect(cjmOf(m).messageExecution).toEqual({ messageExecutionID: 'm-1' });
    expect(validator.validate(m.event)).toBeNull();
  });
});
