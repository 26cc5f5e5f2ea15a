// The classifier engine and the shipped classifier tables (SMTP, Twilio, Mailgun severity, Stannp, OVO ErrorCodes).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { Classifier, readClassifierFile } from '../../src/classifiers/index.js';
import { schemaProblemsOfClassifier } from '../../src/mapping/schema.js';

const DIR = join(import.meta.dirname, '..', '..', 'mappings', 'classifiers');
const load = (name: string) => new Classifier(readClassifierFile(join(DIR, `${name}.json`)));
const verdict = (c: Classifier, input: string | undefined) => {
  const v = c.classify(input);
  return { recognised: v.recognised, code: v.code, type: v.entry.type, feedbackStatus: v.entry.feedbackStatus };
};

describe('shipped classifier files', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

  test('are the five the design names', () => {
    expect(files.sort()).toEqual(['mailgun-severity.json', 'ovo-error-codes.json', 'smtp.json', 'stannp.json', 'twilio.json']);
  });

  test.each(files)('%s is valid against the classifier schema, and every entry says why', (file) => {
    const def = readClassifierFile(join(DIR, file));
    expect(schemaProblemsOfClassifier(def)).toEqual([]);
    expect(def.name).toBe(file.replace(/\.json$/, ''));
    for (const entry of [...Object.values(def.codes ?? {}), ...Object.values(def.prefixes ?? {}), def.default]) expect(entry.why.length).toBeGreaterThan(10);
  });
});

describe('SMTP classifier', () => {
  const smtp = load('smtp');

  test('finds enhanced codes in free text, before the basic reply code', () => {
    expect(verdict(smtp, '550 5.1.1 <someone@example.com>: user unknown')).toEqual({ recognised: true, code: '5.1.1', type: 'hard', feedbackStatus: undefined });
  });

  test('class 4 is soft, class 5 hard, and 5.2.2 (mailbox full) soft', () => {
    expect(verdict(smtp, '451 4.7.1 greylisted').type).toBe('soft');
    expect(verdict(smtp, '5.7.26 unauthenticated').type).toBe('hard');
    expect(verdict(smtp, '552 5.2.2 mailbox full').type).toBe('soft');
    expect(verdict(smtp, '452 4.2.2 mailbox full').type).toBe('soft');
  });

  test('falls back to the basic reply code when there is no enhanced code', () => {
    expect(verdict(smtp, '550 Requested action not taken')).toMatchObject({ code: '550', type: 'hard' });
    expect(verdict(smtp, '421 try later')).toMatchObject({ code: '421', type: 'soft' });
    expect(verdict(smtp, '552 Requested mail action aborted: exceeded storage allocation')).toMatchObject({ code: '552', type: 'soft' });
  });

  test('text without a code falls back to the documented default (hard)', () => {
    expect(verdict(smtp, 'Message rejected')).toEqual({ recognised: false, code: undefined, type: 'hard', feedbackStatus: undefined });
    expect(verdict(smtp, undefined).recognised).toBe(false);
  });
});

describe('Twilio classifier', () => {
  const twilio = load('twilio');

  test.each([
    ['30001', 'soft'],
    ['30003', 'soft'],
    ['30007', 'soft'],
    ['30008', 'soft'],
    ['30005', 'hard'],
    ['30006', 'hard'],
    ['21211', 'hard'],
    ['21614', 'hard'],
  ])('%s is %s', (code, type) => {
    expect(verdict(twilio, code)).toMatchObject({ recognised: true, code, type });
  });

  test('21610 (STOP) is a denylist', () => {
    expect(verdict(twilio, 'Twilio error 21610')).toMatchObject({ code: '21610', feedbackStatus: 'denylist', type: 'hard' });
  });

  test('an unknown code falls back to soft', () => {
    expect(verdict(twilio, '39999')).toMatchObject({ recognised: false, code: '39999', type: 'soft' });
  });
});

describe('Mailgun severity classifier', () => {
  const mailgun = load('mailgun-severity');

  test('temporary is a delay (Mailgun retries), permanent hard, case-insensitively and inside text', () => {
    expect(verdict(mailgun, 'Temporary failure')).toMatchObject({ code: 'Temporary', feedbackStatus: 'delay', type: 'soft' });
    expect(verdict(mailgun, 'permanent')).toMatchObject({ feedbackStatus: undefined, type: 'hard' });
  });
});

describe('Stannp classifier', () => {
  const stannp = load('stannp');

  test('maps every Stannp status as the design says', () => {
    expect(verdict(stannp, 'received').feedbackStatus).toBe('skip');
    expect(verdict(stannp, 'producing').feedbackStatus).toBe('skip');
    expect(verdict(stannp, 'local_delivery').feedbackStatus).toBe('skip');
    expect(verdict(stannp, 'handed_over').feedbackStatus).toBe('sent');
    expect(verdict(stannp, 'delivered').feedbackStatus).toBe('delivered');
    expect(verdict(stannp, 'returned')).toMatchObject({ feedbackStatus: 'bounce', type: 'hard' });
    expect(stannp.classify('cancelled').entry).toMatchObject({ feedbackStatus: 'exclude', exclusionCode: 'cancelled' });
    expect(verdict(stannp, 'teleported')).toMatchObject({ recognised: false, feedbackStatus: 'unknown' });
  });
});

describe('OVO ErrorCode classifier', () => {
  const ovo = load('ovo-error-codes');

  test('blacklisted is a denylist, duplicate a duplicate without type, the rest hard or soft', () => {
    expect(verdict(ovo, 'EmailAddressBlacklisted')).toMatchObject({ feedbackStatus: 'denylist', type: 'hard' });
    expect(verdict(ovo, 'DuplicateCommError')).toMatchObject({ feedbackStatus: 'duplicate', type: 'none' });
    for (const code of ['InvalidProfile', 'InvalidTemplate', 'MissingTemplateData', 'CompositionError', 'CommExpired']) expect(verdict(ovo, code).type).toBe('hard');
    for (const code of ['ProfileRetrievalFailed', 'TemplateDownloadFailed', 'EmailGatewayError', 'SMSGatewayError', 'PrintGatewayError', 'UnexpectedDeliveryError', 'OrchestrationError']) {
      expect(verdict(ovo, code).type).toBe('soft');
    }
  });

  test('has no extract patterns, so free text is not mistaken for a code', () => {
    expect(ovo.readsText).toBe(false);
  });
});

describe('the lookup engine', () => {
  const c = new Classifier({
    name: 'demo',
    extract: ['code=(\\w+)', 'E(\\d+)'],
    codes: { '123': { type: 'hard', why: 'exact' } },
    prefixes: { '1': { type: 'soft', why: 'short prefix' }, '12': { type: 'hard', why: 'long prefix' } },
    default: { type: 'soft', why: 'default' },
  });

  test('an exact code wins over prefixes, and the longest prefix over shorter ones', () => {
    expect(c.classify('E123').entry.why).toBe('exact');
    expect(c.classify('E129').entry.why).toBe('long prefix');
    expect(c.classify('E199').entry.why).toBe('short prefix');
    expect(c.classify('E999').entry.why).toBe('default');
  });

  test('extract patterns are tried in order', () => {
    expect(c.findCode('E5 then code=7')).toBe('7');
    expect(c.findCode('only E5')).toBe('5');
    expect(c.findCode('nothing')).toBeUndefined();
  });

  test('stats count fallbacks, name at most 20 distinct codes, and never name free text', () => {
    expect(c.stats()).toEqual({});
    for (let i = 0; i < 30; i++) c.countFallback(`9${i}`);
    c.countFallback('90');
    c.countFallback(undefined);
    c.countFallback('jane.doe@example.com is unknown here');
    const stats = c.stats();
    expect(stats['classifier.demo.fallback']).toBe(33);
    expect(stats['classifier.demo.fallback.90']).toBe(2);
    expect(Object.keys(stats).filter((k) => k.startsWith('classifier.demo.fallback.')).length).toBe(20);
    expect(JSON.stringify(stats)).not.toContain('jane');
  });
});
