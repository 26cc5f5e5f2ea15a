/** Names the OVO v2 record type of a decoded record, from its Avro schema name, its Kafka topic, or its fields. */
import type { JsonObject } from '../../core/types.js';

/** The OVO v2 record types the `ovo-v2` source reads. */
export const OVO_V2_RECORD_TYPES = [
  'EmailProgressedV2',
  'SMSProgressedV2',
  'LinkClickedV2',
  'IssuedForDeliveryV2',
  'FailedV2',
  'CancelledV2',
  'FailedCancellationV2',
] as const;
export type OvoV2RecordType = (typeof OVO_V2_RECORD_TYPES)[number];

/** The field the `ovo-v2` source adds to each record to name its type (mappings switch on it). */
export const RECORD_TYPE_FIELD = '_recordType';

const TOPIC_TYPES: Record<string, OvoV2RecordType> = {
  'comms.progressed.email.v2': 'EmailProgressedV2',
  'comms.progressed.sms.v2': 'SMSProgressedV2',
  'comms.link.clicked.v2': 'LinkClickedV2',
  'comms.issued.for.delivery.v2': 'IssuedForDeliveryV2',
  'comms.failed.v2': 'FailedV2',
  'comms.cancelled.v2': 'CancelledV2',
  'comms.failed.cancellation.v2': 'FailedCancellationV2',
};

const EMAIL_ONLY = new Set(['Dropped', 'Bounced', 'Opened']);
const SMS_ONLY = new Set(['Accepted', 'Sent', 'Undelivered', 'Failed']);

function isRecordType(name: string): name is OvoV2RecordType {
  return (OVO_V2_RECORD_TYPES as readonly string[]).includes(name);
}

/** From an Avro full name such as `com.ovoenergy.comms.model.email.EmailProgressedV2`. */
export function recordTypeFromSchemaName(fullName: string | undefined): OvoV2RecordType | undefined {
  if (!fullName) return undefined;
  const name = fullName.slice(fullName.lastIndexOf('.') + 1);
  return isRecordType(name) ? name : undefined;
}

/** From a topic name such as `comms.progressed.email.v2` (environment prefixes/suffixes tolerated). */
export function recordTypeFromTopic(topic: string | undefined): OvoV2RecordType | undefined {
  if (!topic) return undefined;
  const exact = TOPIC_TYPES[topic];
  if (exact) return exact;
  for (const [name, type] of Object.entries(TOPIC_TYPES)) if (topic.includes(name)) return type;
  return undefined;
}

/** From the fields alone (files, JSON messages). Undefined when the fields do not settle it. */
export function inferOvoV2RecordType(record: JsonObject): OvoV2RecordType | undefined {
  const given = record[RECORD_TYPE_FIELD];
  if (typeof given === 'string' && isRecordType(given)) return given;
  if ('url' in record) return 'LinkClickedV2';
  if ('errorCode' in record) return 'FailedV2';
  if ('cancellationRequested' in record) return 'reason' in record ? 'FailedCancellationV2' : 'CancelledV2';
  const status = record.status;
  const gateway = record.gateway;
  if (typeof status === 'string') {
    if (gateway === 'Mailgun' || EMAIL_ONLY.has(status)) return 'EmailProgressedV2';
    if (gateway === 'Twilio' || SMS_ONLY.has(status)) return 'SMSProgressedV2';
    return undefined;
  }
  if ('gatewayMessageId' in record && 'channel' in record) return 'IssuedForDeliveryV2';
  return undefined;
}

/** Adds `_recordType` to a v2 record when it can be told; returns the same object. */
export function tagOvoV2Record(record: JsonObject, hint?: OvoV2RecordType): JsonObject {
  const type = hint ?? inferOvoV2RecordType(record);
  if (type) record[RECORD_TYPE_FIELD] = type;
  return record;
}
