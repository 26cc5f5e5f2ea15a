/**
 * The OVO Avro schemas (`src/sources/ovo/avro/*.avsc`) and one sample per record type, in Avro-JSON form (unions
 * wrapped), to make real Avro encodings with avsc in tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avsc from 'avsc';
import type { Type } from 'avsc';

export const OVO_SCHEMA_FILES = [
  'feedback',
  'email-progressed-v2',
  'sms-progressed-v2',
  'link-clicked-v2',
  'issued-for-delivery-v2',
  'failed-v2',
  'cancelled-v2',
  'failed-cancellation-v2',
] as const;
export type OvoSchemaFile = (typeof OVO_SCHEMA_FILES)[number];

const DIR = join(process.cwd(), 'src', 'sources', 'ovo', 'avro');

export function ovoSchema(name: OvoSchemaFile): Record<string, unknown> {
  return JSON.parse(readFileSync(join(DIR, `${name}.avsc`), 'utf8')) as Record<string, unknown>;
}

/** An avsc Type whose values are in Avro-JSON form (every union wrapped), so `toBuffer` and `JSON.stringify` agree. */
export function wrappedType(name: OvoSchemaFile): Type {
  return avsc.Type.forSchema(ovoSchema(name) as avsc.Schema, { wrapUnions: 'always' });
}

const M = 'com.ovoenergy.comms.model';
const CREATED = 1714550400000;

function metadataV2(deliverTo: Record<string, unknown>) {
  return {
    createdAt: CREATED,
    eventId: 'e-1',
    traceToken: 'tt-1',
    deliverTo,
    commManifest: { commType: 'Service', name: 'cc-payment-taken', version: '0.3' },
    friendlyDescription: 'One-off card payment',
    source: 'delivery-service',
    canary: false,
    sourceMetadata: null,
    triggerSource: 'payments',
  };
}
const generic = { createdAt: CREATED, eventId: 'g-1', traceToken: 'tt-2', source: 'cancellation-service', canary: false };
const customer = { [`${M}.Customer`]: { customerId: '12345' } };
const contact = { [`${M}.ContactDetails`]: { emailAddress: { string: 'customer1@example.com' }, phoneNumber: null, postalAddress: null } };

/** One Avro-JSON sample per schema, with the plain JSON the source must turn it into. */
export const OVO_SAMPLES: Record<OvoSchemaFile, { avroJson: Record<string, unknown>; plain: Record<string, unknown> }> = {
  feedback: {
    avroJson: {
      commId: 'c-123',
      commDescription: { string: 'One-off card payment' },
      customer: { [`${M}.Customer`]: { customerId: '12345' } },
      status: 'Delivered',
      description: null,
      email: { [`${M}.feedback.EmailFeedback`]: 'Opened' },
      channel: { [`${M}.Channel`]: 'Email' },
      templateManifest: { [`${M}.TemplateManifest`]: { id: 'a1b2', version: '0.3' } },
      metadata: { eventId: 'c-123-feedback-opened', traceToken: 't-9', createdAt: CREATED },
    },
    plain: {
      commId: 'c-123',
      commDescription: 'One-off card payment',
      customer: { customerId: '12345' },
      status: 'Delivered',
      description: null,
      email: 'Opened',
      channel: 'Email',
      templateManifest: { id: 'a1b2', version: '0.3' },
      metadata: { eventId: 'c-123-feedback-opened', traceToken: 't-9', createdAt: CREATED },
    },
  },
  'email-progressed-v2': {
    avroJson: { metadata: metadataV2(contact), internalMetadata: { internalTraceToken: 'it-1' }, status: 'Bounced', gateway: 'Mailgun', gatewayMessageId: { string: 'mg-1@mg.example.com' }, reason: { string: '550 5.1.1 user unknown' } },
    plain: {
      metadata: { ...metadataV2({ emailAddress: 'customer1@example.com', phoneNumber: null, postalAddress: null }) },
      internalMetadata: { internalTraceToken: 'it-1' },
      status: 'Bounced',
      gateway: 'Mailgun',
      gatewayMessageId: 'mg-1@mg.example.com',
      reason: '550 5.1.1 user unknown',
    },
  },
  'sms-progressed-v2': {
    avroJson: { metadata: metadataV2(customer), internalMetadata: { internalTraceToken: 'it-2' }, status: 'Undelivered', gateway: 'Twilio', gatewayMessageId: 'SM0123', reason: { string: '30003' } },
    plain: { metadata: metadataV2({ customerId: '12345' }), internalMetadata: { internalTraceToken: 'it-2' }, status: 'Undelivered', gateway: 'Twilio', gatewayMessageId: 'SM0123', reason: '30003' },
  },
  'link-clicked-v2': {
    avroJson: { metadata: metadataV2(customer), internalMetadata: { internalTraceToken: 'it-3' }, gateway: 'Mailgun', url: 'https://www.example.com/pay' },
    plain: { metadata: metadataV2({ customerId: '12345' }), internalMetadata: { internalTraceToken: 'it-3' }, gateway: 'Mailgun', url: 'https://www.example.com/pay' },
  },
  'issued-for-delivery-v2': {
    avroJson: { metadata: metadataV2(customer), internalMetadata: { internalTraceToken: 'it-4' }, channel: 'Print', gateway: 'Stannp', gatewayMessageId: '6829954' },
    plain: { metadata: metadataV2({ customerId: '12345' }), internalMetadata: { internalTraceToken: 'it-4' }, channel: 'Print', gateway: 'Stannp', gatewayMessageId: '6829954' },
  },
  'failed-v2': {
    avroJson: { metadata: metadataV2(customer), internalMetadata: { internalTraceToken: 'it-5' }, reason: 'Customer profile has no email', errorCode: 'InvalidProfile' },
    plain: { metadata: metadataV2({ customerId: '12345' }), internalMetadata: { internalTraceToken: 'it-5' }, reason: 'Customer profile has no email', errorCode: 'InvalidProfile' },
  },
  'cancelled-v2': {
    avroJson: { metadata: metadataV2(customer), cancellationRequested: { metadata: generic, commName: 'tariff-change', customerId: '12345' } },
    plain: { metadata: metadataV2({ customerId: '12345' }), cancellationRequested: { metadata: generic, commName: 'tariff-change', customerId: '12345' } },
  },
  'failed-cancellation-v2': {
    avroJson: { metadata: generic, cancellationRequested: { metadata: generic, commName: 'tariff-change', customerId: '12345' }, reason: 'Already sent' },
    plain: { metadata: generic, cancellationRequested: { metadata: generic, commName: 'tariff-change', customerId: '12345' }, reason: 'Already sent' },
  },
};

/** Confluent framing: magic 0, 4-byte big-endian schema id, Avro body. */
export function confluentFrame(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

/** The older framing without the magic byte: 4-byte big-endian schema id, Avro body. */
export function legacyFrame(id: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(id, 0);
  return Buffer.concat([header, body]);
}
