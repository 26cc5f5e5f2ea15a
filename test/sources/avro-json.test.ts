import { describe, expect, test } from 'vitest';
import { isUnionBranchName, unwrapAvroJson } from '../../src/sources/ovo/avro-json.js';
import { inferOvoV2RecordType, recordTypeFromSchemaName, recordTypeFromTopic } from '../../src/sources/ovo/record-type.js';

describe('Avro-JSON unwrapping', () => {
  test('primitive, named-record and enum union wrappers are removed, recursively', () => {
    const input = {
      commId: 'c-1',
      commDescription: { string: 'One-off card payment' },
      customer: { 'com.ovoenergy.comms.model.Customer': { customerId: { string: '42' } } },
      channel: { 'com.ovoenergy.comms.model.Channel': 'Email' },
      count: { long: 1 },
      ratio: { double: 0.5 },
      flag: { boolean: false },
      tags: { array: [{ string: 'a' }, 'b'] },
      attrs: { map: { k: { int: 3 } } },
      description: null,
      metadata: { eventId: 'e-1', createdAt: 1534412400000 },
    };
    expect(unwrapAvroJson(input)).toEqual({
      commId: 'c-1',
      commDescription: 'One-off card payment',
      customer: { customerId: '42' },
      channel: 'Email',
      count: 1,
      ratio: 0.5,
      flag: false,
      tags: ['a', 'b'],
      attrs: { k: 3 },
      description: null,
      metadata: { eventId: 'e-1', createdAt: 1534412400000 },
    });
  });

  test('real single-key objects are left alone', () => {
    const input = { customer: { customerId: '1' }, templateManifest: { id: 'x' }, deliverTo: { Customer: { customerId: '2' } } };
    expect(unwrapAvroJson(structuredClone(input))).toEqual(input);
  });

  test('branch names are primitive names or dotted full names only', () => {
    expect(isUnionBranchName('string')).toBe(true);
    expect(isUnionBranchName('null')).toBe(true);
    expect(isUnionBranchName('com.ovoenergy.comms.model.ContactDetails')).toBe(true);
    expect(isUnionBranchName('customerId')).toBe(false);
    expect(isUnionBranchName('Customer')).toBe(false);
    expect(isUnionBranchName('a..b')).toBe(false);
    expect(isUnionBranchName('.leading')).toBe(false);
  });

  test('a wrapped null union branch becomes null', () => {
    expect(unwrapAvroJson({ x: { null: null } })).toEqual({ x: null });
  });
});

describe('OVO v2 record types', () => {
  test('the type is read from the Avro schema name, the topic, or the fields', () => {
    expect(recordTypeFromSchemaName('com.ovoenergy.comms.model.email.EmailProgressedV2')).toBe('EmailProgressedV2');
    expect(recordTypeFromSchemaName('com.ovoenergy.comms.model.feedback.Feedback')).toBeUndefined();
    expect(recordTypeFromTopic('comms.progressed.sms.v2')).toBe('SMSProgressedV2');
    expect(recordTypeFromTopic('uat.comms.failed.cancellation.v2')).toBe('FailedCancellationV2');
    expect(inferOvoV2RecordType({ status: 'Queued', gateway: 'Mailgun' })).toBe('EmailProgressedV2');
    expect(inferOvoV2RecordType({ status: 'Queued', gateway: 'Twilio' })).toBe('SMSProgressedV2');
    expect(inferOvoV2RecordType({ status: 'Bounced' })).toBe('EmailProgressedV2');
    expect(inferOvoV2RecordType({ status: 'Undelivered' })).toBe('SMSProgressedV2');
    expect(inferOvoV2RecordType({ status: 'Delivered' })).toBeUndefined();
    expect(inferOvoV2RecordType({ url: 'https://example.com', gateway: 'Mailgun' })).toBe('LinkClickedV2');
    expect(inferOvoV2RecordType({ channel: 'Print', gateway: 'Stannp', gatewayMessageId: '1' })).toBe('IssuedForDeliveryV2');
    expect(inferOvoV2RecordType({ errorCode: 'InvalidProfile', reason: 'x' })).toBe('FailedV2');
    expect(inferOvoV2RecordType({ cancellationRequested: {} })).toBe('CancelledV2');
    expect(inferOvoV2RecordType({ cancellationRequested: {}, reason: 'x' })).toBe('FailedCancellationV2');
  });
});
