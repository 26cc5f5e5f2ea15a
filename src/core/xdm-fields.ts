/** Reads and writes the few XDM fields the pipeline itself needs (retryCount, ledger summary columns). */
import type { JsonObject, XdmEvent } from './types.js';
import type { LedgerEntry } from '../store/state.js';

const CHANNEL_PREFIX = 'https://ns.adobe.com/xdm/channels/';

function obj(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function cjm(event: XdmEvent): JsonObject | undefined {
  return obj(obj(event._experience)?.customerJourneyManagement);
}

/** The object holding retryCount (messageDeliveryfeedback) on outcome events; tracking events carry none. */
export function retryCountHolder(event: XdmEvent): JsonObject | undefined {
  return obj(cjm(event)?.messageDeliveryfeedback);
}

export function setRetryCount(event: XdmEvent, retryCount: number): void {
  const feedback = retryCountHolder(event);
  if (feedback) feedback.retryCount = retryCount;
}

export function channelOf(event: XdmEvent): string | undefined {
  const id = obj(obj(cjm(event)?.messageProfile)?.channel)?._id;
  return typeof id === 'string' ? (id.startsWith(CHANNEL_PREFIX) ? id.slice(CHANNEL_PREFIX.length) : id) : undefined;
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The summary columns kept per sent event, for status counts and the delivery report. */
export function ledgerEntryFor(event: XdmEvent, source: string, sink: string): LedgerEntry {
  const c = cjm(event);
  const feedback = obj(c?.messageDeliveryfeedback);
  const failure = obj(feedback?.messageFailure);
  const interaction = obj(c?.messageInteraction);
  const status = str(feedback?.feedbackStatus) ?? (interaction ? str(interaction.interactionType) : undefined);
  const entry: LedgerEntry = { id: event._id, source, sink, eventTime: event.timestamp, eventType: event.eventType };
  if (status) entry.status = status;
  const channel = channelOf(event);
  if (channel) entry.channel = channel;
  const failureType = str(failure?.type);
  if (failureType) entry.failureType = failureType;
  const category = str(failure?.category);
  if (category) entry.failureCategory = category;
  const code = str(failure?.code);
  if (code) entry.failureCode = code;
  const reason = str(failure?.reason);
  if (reason) entry.failureReason = reason;
  const exclusion = str(obj(feedback?.messageExclusion)?.code);
  if (exclusion) entry.exclusionCode = exclusion;
  if (typeof feedback?.retryCount === 'number') entry.retryCount = feedback.retryCount;
  return entry;
}
