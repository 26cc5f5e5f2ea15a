/** Compiles a validated mapping document into a Mapper: every expression, regex and table is built once here. */
import type { JsonObject, JsonValue, MapResult, Mapper, MessageKey, Outcome, XdmEvent } from '../core/types.js';
import { Classifier, type ClassifierEntry, type FailureCategory, type FailureType, type FeedbackStatusOrSkip } from '../classifiers/index.js';
import { redact } from '../redact.js';
import { eventIdFor } from './event-id.js';
import { asString, compileCondition, compileExpression, CompileScope, describeExpression, escapePointer, type Evaluate, type Test } from './expressions.js';
import { toE164, validEmail } from './identity.js';
import { TimeParser } from './time.js';
import { compileXdmTemplate } from './xdm-template.js';
import { FIELD_NAMES, type FieldName, type InteractionType, type MappingDocument, type MappingOptions, type OutcomeDoc } from './types.js';

/** Channels the engine knows, with their XDM channel `_type`. */
const CHANNEL_TYPES: Readonly<Record<string, string>> = {
  email: 'https://ns.adobe.com/xdm/channel-types/email',
  sms: 'https://ns.adobe.com/xdm/channel-types/messaging',
  'direct-mail': 'https://ns.adobe.com/xdm/channel-types/mail',
  push: 'https://ns.adobe.com/xdm/channel-types/mobile',
};
const CHANNEL_ALIASES: Readonly<Record<string, string>> = {
  email: 'email',
  sms: 'sms',
  'direct-mail': 'direct-mail',
  directmail: 'direct-mail',
  'direct mail': 'direct-mail',
  direct_mail: 'direct-mail',
  print: 'direct-mail',
  mail: 'direct-mail',
  push: 'push',
};
const FAILURE_STATUSES: ReadonlySet<string> = new Set(['error', 'bounce', 'delay', 'denylist', 'duplicate']);

/** Something a mapping needs besides the document: where classifiers come from, names for messages. */
export interface CompileInput {
  doc: MappingDocument;
  /** The mapping file as shown in messages. */
  file: string;
  /** Resolves a classifier name to its definition (inline, next to the mapping, or bundled), or a problem text. */
  resolveClassifier(name: string): Classifier | string;
  options: MappingOptions;
}

interface CompiledFailure {
  type?: FailureType;
  category?: FailureCategory;
  classifiers: Classifier[];
  code?: Evaluate;
  reason?: Evaluate;
}

interface CompiledOutcome {
  why?: string;
  feedbackStatus?: FeedbackStatusOrSkip;
  interactionType?: InteractionType;
  failure?: CompiledFailure;
  exclusion?: { code: string; reason?: Evaluate };
  url?: Evaluate;
  label?: Evaluate;
}

interface CompiledStatus {
  base: CompiledOutcome;
  cases: Array<{ when: Test; outcome: CompiledOutcome }>;
}

type Fields = Partial<Record<FieldName, Evaluate>>;

function capitalised(type: FailureType | undefined): string | undefined {
  return type === 'soft' ? 'Soft' : type === 'hard' ? 'Hard' : undefined;
}

function asBoolean(v: JsonValue | undefined): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const s = asString(v)?.toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  return undefined;
}

function asAttempt(v: JsonValue | undefined): number | undefined {
  const n = typeof v === 'number' ? v : Number(asString(v));
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/** Compiles the document; returns the Mapper, or the list of problems (pointer: message — fix). */
export function compileMapping(input: CompileInput): { mapper: Mapper } | { problems: string[] } {
  const { doc, file, options } = input;
  const source = options.source ?? doc.source;
  const namespace = options.identityNamespace ?? 'CRMID';
  const deliveredAsSent = options.deliveredAs === 'sent';
  const scope = new CompileScope(new Set(Object.keys(doc.define ?? {})));
  scope.compileDefines(doc.define ?? {});

  let time: TimeParser;
  try {
    time = new TimeParser(doc.options?.epochUnit ?? 'ms', options.timezone ?? 'UTC');
  } catch {
    return { problems: [`timezone "${options.timezone}" is not an IANA time zone — use a name such as "UTC" or "Australia/Melbourne"`] };
  }

  const fields: Fields = {};
  const describe: Partial<Record<FieldName, string>> = {};
  for (const name of FIELD_NAMES) {
    const expr = doc.fields[name];
    if (expr === undefined) continue;
    fields[name] = compileExpression(expr, `/fields/${name}`, scope);
    describe[name] = describeExpression(expr, scope);
  }

  const classifiersUsed = new Map<string, Classifier>();
  const classifierFor = (name: string, at: string): Classifier | undefined => {
    const known = classifiersUsed.get(name);
    if (known) return known;
    const c = input.resolveClassifier(name);
    if (typeof c === 'string') {
      scope.problem(at, c);
      return undefined;
    }
    classifiersUsed.set(name, c);
    return c;
  };

  const adjust = (s: FeedbackStatusOrSkip | undefined): FeedbackStatusOrSkip | undefined =>
    deliveredAsSent && s === 'delivered' ? 'sent' : s;

  const compileOutcome = (o: OutcomeDoc, at: string): CompiledOutcome => {
    const out: CompiledOutcome = {};
    if (o.why !== undefined) out.why = o.why;
    if ((o.feedbackStatus === undefined) === (o.interactionType === undefined)) {
      scope.problem(at, 'give either "feedbackStatus" (an outcome, or "skip") or "interactionType" (an open, click… tracking event), not both or neither');
    }
    if (o.feedbackStatus !== undefined) out.feedbackStatus = adjust(o.feedbackStatus);
    if (o.interactionType !== undefined) out.interactionType = o.interactionType;
    if (o.failure) {
      if (o.interactionType !== undefined) scope.problem(`${at}/failure`, '"failure" applies to feedback outcomes only — remove it from the tracking entry');
      const f: CompiledFailure = { classifiers: [] };
      if (o.failure.type) f.type = o.failure.type;
      if (o.failure.category) f.category = o.failure.category;
      const names = o.failure.classifier === undefined ? [] : Array.isArray(o.failure.classifier) ? o.failure.classifier : [o.failure.classifier];
      names.forEach((n, i) => {
        const c = classifierFor(n, `${at}/failure/classifier${Array.isArray(o.failure!.classifier) ? `/${i}` : ''}`);
        if (c) f.classifiers.push(c);
      });
      if (o.failure.code !== undefined) f.code = compileExpression(o.failure.code, `${at}/failure/code`, scope);
      if (o.failure.reason !== undefined) f.reason = compileExpression(o.failure.reason, `${at}/failure/reason`, scope);
      out.failure = f;
    }
    if (o.exclusion) {
      if (o.feedbackStatus !== 'exclude') scope.problem(`${at}/exclusion`, '"exclusion" goes with feedbackStatus "exclude"');
      out.exclusion = { code: o.exclusion.code };
      if (o.exclusion.reason !== undefined) out.exclusion.reason = compileExpression(o.exclusion.reason, `${at}/exclusion/reason`, scope);
    }
    if (o.url !== undefined) out.url = compileExpression(o.url, `${at}/url`, scope);
    if (o.label !== undefined) out.label = compileExpression(o.label, `${at}/label`, scope);
    return out;
  };

  const statuses = new Map<string, CompiledStatus>();
  const statusesLower = new Map<string, CompiledStatus>();
  let wildcard: CompiledStatus | undefined;
  for (const [key, entry] of Object.entries(doc.statuses)) {
    const at = `/statuses/${escapePointer(key)}`;
    const compiled: CompiledStatus = {
      base: compileOutcome(entry, at),
      cases: (entry.cases ?? []).map((c, i) => ({
        when: compileCondition(c.when, `${at}/cases/${i}/when`, scope),
        outcome: compileOutcome(c, `${at}/cases/${i}`),
      })),
    };
    if (key === '*') wildcard = compiled;
    else {
      statuses.set(key, compiled);
      if (!statusesLower.has(key.toLowerCase())) statusesLower.set(key.toLowerCase(), compiled);
    }
  }
  const knownStatuses = [...statuses.keys()];

  const extra = doc.xdm ? compileXdmTemplate(doc.xdm, scope, time) : undefined;

  if (scope.problems.length > 0) return { problems: scope.problems };

  const unknownStatusHint = `known: ${knownStatuses.slice(0, 30).join(', ')}${knownStatuses.length > 30 ? ', …' : ''}; add it to ${file} /statuses`;
  const str = (name: FieldName, r: JsonObject): string | undefined => {
    const f = fields[name];
    return f ? asString(f(r)) : undefined;
  };
  const missing = (name: FieldName) => `missing ${name}: ${describe[name] ?? name} gave no value`;

  const map = (record: JsonObject): MapResult => {
    const sourceEventId = str('sourceEventId', record);
    if (sourceEventId === undefined) return { kind: 'invalid', reason: missing('sourceEventId') };
    const status = str('status', record);
    if (status === undefined) return { kind: 'invalid', reason: missing('status'), sourceEventId };
    const entry = statuses.get(status) ?? statusesLower.get(status.toLowerCase()) ?? wildcard;
    if (!entry) return { kind: 'invalid', reason: `unknown status '${redact(status)}' for ${source}; ${unknownStatusHint}`, sourceEventId };
    const t = time.parse(fields.time!(record));
    if (!t.ok) {
      return { kind: 'invalid', reason: t.reason === 'missing' ? missing('time') : `bad time in ${describe.time}: ${t.reason}`, sourceEventId };
    }
    const messageId = str('messageId', record);
    if (messageId === undefined) return { kind: 'invalid', reason: missing('messageId'), sourceEventId };
    const rawChannel = str('channel', record);
    if (rawChannel === undefined) return { kind: 'invalid', reason: missing('channel'), sourceEventId };
    const channel = CHANNEL_ALIASES[rawChannel.toLowerCase()];
    if (channel === undefined) {
      return { kind: 'invalid', reason: `channel '${redact(rawChannel)}' from ${describe.channel} is not one of email, sms, direct-mail, push; map it with @lookup in fields.channel`, sourceEventId };
    }
    const message: MessageKey = { messageId, channel };

    let outcome = entry.base;
    for (const c of entry.cases) {
      if (c.when(record)) {
        outcome = c.outcome;
        break;
      }
    }

    // Failure details and classification (may change the feedbackStatus, e.g. Twilio 21610 → denylist).
    let feedbackStatus = outcome.feedbackStatus;
    let failureType: FailureType | undefined;
    let category: FailureCategory | undefined;
    let code: string | undefined;
    let reason: string | undefined;
    let exclusionCode = outcome.exclusion?.code;
    let classifiedBy = '';
    const f = outcome.failure;
    if (f) {
      code = f.code ? asString(f.code(record)) : str('failureCode', record);
      reason = f.reason ? asString(f.reason(record)) : str('failureReason', record);
      failureType = f.type;
      category = f.category;
      if (f.classifiers.length > 0) {
        let verdict: { entry: ClassifierEntry; code?: string; by: Classifier } | undefined;
        let firstCode: string | undefined;
        for (const c of f.classifiers) {
          const found = c.findCode(code ?? (c.readsText ? reason : undefined));
          if (c === f.classifiers[0]) firstCode = found;
          const v = c.lookup(found);
          if (v.recognised) {
            verdict = { entry: v.entry, by: c, ...(v.code !== undefined ? { code: v.code } : {}) };
            break;
          }
        }
        let chosen: ClassifierEntry;
        if (verdict) {
          chosen = verdict.entry;
          failureType = chosen.type ?? failureType;
          code = verdict.code ?? code;
          classifiedBy = ` (${verdict.by.name} '${verdict.code ?? ''}')`;
        } else {
          const first = f.classifiers[0]!;
          first.countFallback(firstCode ?? code);
          chosen = first.defaultEntry;
          failureType = failureType ?? chosen.type;
          code = firstCode ?? code;
        }
        category = category ?? chosen.category;
        if (chosen.feedbackStatus) feedbackStatus = adjust(chosen.feedbackStatus);
        if (chosen.exclusionCode && !exclusionCode) exclusionCode = chosen.exclusionCode;
        if (chosen.meaning && (reason === undefined || reason === code)) reason = chosen.meaning;
      }
    }

    if (feedbackStatus === 'skip') {
      const why = outcome.why ?? 'not an outcome';
      return { kind: 'skip', reason: `status '${status}'${classifiedBy} is skipped: ${why}` };
    }

    const providerStatus = str('providerStatus', record) ?? status;
    const tracking = outcome.interactionType !== undefined;
    const cjm: JsonObject = {};
    const result: Outcome = { status: '', providerTime: t.iso, countsAsRetry: false };
    let failureText: string | undefined;
    if (tracking) {
      const interaction: JsonObject = { interactionType: outcome.interactionType! };
      const url = outcome.url ? asString(outcome.url(record)) : str('url', record);
      if (url !== undefined) interaction.url = url;
      const label = outcome.label ? asString(outcome.label(record)) : str('label', record);
      if (label !== undefined) interaction.label = label;
      cjm.messageInteraction = interaction;
      result.status = outcome.interactionType!;
    } else {
      const fs = feedbackStatus!;
      const feedback: JsonObject = { feedbackStatus: fs };
      if (FAILURE_STATUSES.has(fs)) {
        const failure: JsonObject = {};
        const typeText = capitalised(failureType);
        if (typeText) failure.type = typeText;
        if (category) failure.category = category;
        if (code !== undefined) failure.code = code;
        if (reason !== undefined) failure.reason = reason;
        if (typeText || category || code !== undefined || reason !== undefined) feedback.messageFailure = failure;
        failureText = reason;
        result.countsAsRetry = fs === 'delay' || (fs !== 'duplicate' && failureType === 'soft');
      } else if (fs === 'exclude') {
        const exclusion: JsonObject = {};
        if (exclusionCode) exclusion.code = exclusionCode;
        const why = outcome.exclusion?.reason ? asString(outcome.exclusion.reason(record)) : (reason ?? str('failureReason', record));
        if (why !== undefined) exclusion.reason = why;
        if (exclusionCode || why !== undefined) feedback.messageExclusion = exclusion;
        failureText = why;
      }
      feedback.retryCount = 0; // placeholder: the pipeline sets it from the message's history
      cjm.messageDeliveryfeedback = feedback;
      result.status = fs;
    }

    cjm.messageExecution = { messageExecutionID: str('executionId', record) ?? messageId };
    const profile: JsonObject = {
      messageProfileID: messageId,
      channel: { _id: `https://ns.adobe.com/xdm/channels/${channel}`, _type: CHANNEL_TYPES[channel]! },
    };
    const isTest = fields.isTest ? asBoolean(fields.isTest(record)) : undefined;
    if (isTest !== undefined) profile.isTestExecution = isTest;
    cjm.messageProfile = profile;

    const email = validEmail(str('email', record));
    if (email !== undefined && channel === 'email') cjm.emailChannelContext = { address: email };
    if (channel === 'sms') {
      const sms: JsonObject = {};
      const provider = str('smsProvider', record);
      if (provider !== undefined) sms.smsProvider = provider;
      const smsStatus: JsonObject = {};
      if (!tracking) smsStatus.feedbackStatus = result.status;
      smsStatus.providerFeedbackStatus = providerStatus;
      if (failureText !== undefined) smsStatus.message = failureText;
      sms.status = smsStatus;
      cjm.smsChannelContext = sms;
    }

    const event: XdmEvent = {
      _id: eventIdFor(source, sourceEventId),
      timestamp: t.iso,
      eventType: tracking ? 'message.tracking' : 'message.feedback',
      producedBy: 'system',
    };
    const identityMap: JsonObject = {};
    let primaryTaken = false;
    const addIdentity = (ns: string, id: string | undefined) => {
      if (id === undefined) return;
      const item: JsonObject = { id };
      if (!primaryTaken) {
        item.primary = true;
        primaryTaken = true;
      }
      const list = identityMap[ns];
      if (Array.isArray(list)) list.push(item);
      else identityMap[ns] = [item];
    };
    addIdentity(namespace, str('customerId', record));
    addIdentity('Email', email);
    const phoneCountry = str('phoneCountryCode', record);
    addIdentity('Phone', toE164(str('phone', record), phoneCountry));
    if (primaryTaken) event.identityMap = identityMap;
    event._experience = { customerJourneyManagement: cjm };
    if (extra) {
      const more = extra(record);
      if (more && typeof more === 'object' && !Array.isArray(more)) {
        mergeInto(event, more);
        // Delivery feedback belongs to outcomes only; tracking events carry none (the pipeline relies on it).
        if (tracking) delete cjm.messageDeliveryfeedback;
      }
    }

    const attempt = fields.attempt ? asAttempt(fields.attempt(record)) : undefined;
    if (attempt !== undefined) result.attempt = attempt;
    return { kind: 'event', mapped: { event, sourceEventId, message, outcome: result } };
  };

  const mappingFile = file;
  const mapper: Mapper = {
    source,
    mappingFile,
    map(record: JsonObject): MapResult {
      try {
        return map(record);
      } catch (err) {
        // A broken record must never stop the run: it becomes a dead letter with the reason.
        return { kind: 'invalid', reason: `mapping failed: ${redact(err instanceof Error ? err.message : String(err))}` };
      }
    },
    stats(): Record<string, number> {
      const out: Record<string, number> = {};
      for (const c of classifiersUsed.values()) Object.assign(out, c.stats());
      return out;
    },
  };
  return { mapper };
}

/** Deep-merges `more` into `target`: objects merge, anything else replaces (the mapping's `xdm` section wins). */
function mergeInto(target: JsonObject, more: JsonObject): void {
  for (const k in more) {
    const v = more[k]!;
    const have = target[k];
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && have !== null && typeof have === 'object' && !Array.isArray(have) && have !== undefined) {
      mergeInto(have, v);
    } else {
      target[k] = v;
    }
  }
}
