/** The shape of a mapping file and the options a run passes to loadMapping. */
import type { JsonObject, JsonValue } from '../core/types.js';
import type { ClassifierDefinition, FailureCategory, FailureType, FeedbackStatusOrSkip } from '../classifiers/index.js';

/** Options every mapping gets from the run configuration. */
export interface MappingOptions {
  /** Source name used in `_id`s and messages. @default the mapping file's `source` */
  source?: string;
  /** Identity namespace of the customer id in identityMap. @default "CRMID" */
  identityNamespace?: string;
  /** `sent` turns every `delivered` into `sent` (tenant schemas whose enum lacks `delivered`). @default "delivered" */
  deliveredAs?: 'delivered' | 'sent';
  /** IANA time zone of zone-less provider times. @default "UTC" */
  timezone?: string;
}

/** The semantic fields a mapping locates in a record. */
export const FIELD_NAMES = [
  'sourceEventId',
  'status',
  'time',
  'messageId',
  'channel',
  'executionId',
  'customerId',
  'email',
  'phone',
  'phoneCountryCode',
  'isTest',
  'attempt',
  'smsProvider',
  'providerStatus',
  'failureCode',
  'failureReason',
  'url',
  'label',
] as const;
export type FieldName = (typeof FIELD_NAMES)[number];

export type InteractionType =
  | 'click'
  | 'open'
  | 'unsubscribe'
  | 'spam_complaint'
  | 'subscription'
  | 'submit'
  | 'visit'
  | 'bot_open'
  | 'bot_click'
  | 'reply';

/** One outcome of the status table (a status entry, or one of its cases). */
export interface OutcomeDoc {
  $comment?: string;
  why?: string;
  feedbackStatus?: FeedbackStatusOrSkip;
  interactionType?: InteractionType;
  failure?: {
    type?: FailureType;
    category?: FailureCategory;
    classifier?: string | string[];
    code?: JsonValue;
    reason?: JsonValue;
  };
  exclusion?: { code: string; reason?: JsonValue };
  url?: JsonValue;
  label?: JsonValue;
}

export interface StatusEntryDoc extends OutcomeDoc {
  cases?: Array<OutcomeDoc & { when: JsonObject }>;
}

/** A parsed mapping file (validated by mappings/mapping.schema.json). */
export interface MappingDocument {
  $schema?: string;
  $comment?: string;
  source: string;
  description?: string;
  options?: { epochUnit?: 'ms' | 's' };
  define?: Record<string, JsonValue>;
  fields: Partial<Record<FieldName, JsonValue>> & Record<'sourceEventId' | 'status' | 'time' | 'messageId' | 'channel', JsonValue>;
  statuses: Record<string, StatusEntryDoc>;
  classifiers?: Record<string, ClassifierDefinition>;
  xdm?: JsonObject;
}
