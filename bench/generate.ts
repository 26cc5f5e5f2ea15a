/**
 * Generates realistic, reproducible feedback inputs for every seed source (OVO unified and v2 NDJSON, a Crisisworks
 * CSV report, a MasStack JSON export) with a realistic status mix, streaming them to files so memory stays flat.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Prng } from './prng.js';

/** The sources the bench reads, with the share of the records each gets. */
export const SOURCE_SHARES = {
  'ovo-feedback': 0.35,
  'ovo-v2': 0.3,
  crisisworks: 0.15,
  masstack: 0.2,
} as const;
export type BenchSource = keyof typeof SOURCE_SHARES;

export interface GeneratedInput {
  source: BenchSource;
  path: string;
  records: number;
  bytes: number;
}

/** How many records each source gets out of `total` (the shares, rounded; the remainder goes to the first). */
export function splitRecords(total: number): Record<BenchSource, number> {
  const out = {} as Record<BenchSource, number>;
  let given = 0;
  for (const [source, share] of Object.entries(SOURCE_SHARES) as Array<[BenchSource, number]>) {
    out[source] = Math.floor(total * share);
    given += out[source];
  }
  out['ovo-feedback'] += total - given;
  return out;
}

/** Buffered synchronous writer: few large writes. */
class Out {
  private parts: string[] = [];
  private pending = 0;
  bytes = 0;
  private readonly fd: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  write(text: string): void {
    this.parts.push(text);
    this.pending += text.length;
    if (this.pending > 1 << 22) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const buf = Buffer.from(this.parts.join(''), 'utf8');
    writeSync(this.fd, buf);
    this.bytes += buf.length;
    this.parts = [];
    this.pending = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

const BASE = Date.UTC(2024, 4, 1, 8, 0, 0);
const MINUTE = 60_000;
const NS = 'com.ovoenergy.comms.model';
const ukPhone = (i: number) => `+447700900${String(i % 1000).padStart(3, '0')}`;
const auPhone = (i: number) => `+61491570${String(i % 1000).padStart(3, '0')}`;
const email = (i: number) => `customer${i}@example.com`;
const wrap = (branch: string, value: unknown) => (value === null || value === undefined ? null : { [branch]: value });
const iso = (ms: number) => new Date(ms).toISOString();

/** Hands over one line and the time of its event; false once the generator has all the lines it wants. */
type Emit = (line: string, at: number) => boolean;

/** Lines waiting for their turn, earliest time first (ties in the order they came: the output is reproducible). */
class TimeOrder {
  private readonly heap: Array<{ at: number; seq: number; line: string }> = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  earliest(): number {
    return this.heap[0]!.at;
  }

  push(at: number, line: string): void {
    const h = this.heap;
    h.push({ at, seq: this.seq++, line });
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  pop(): string {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top.line;
  }
}

const before = (a: { at: number; seq: number }, b: { at: number; seq: number }) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/**
 * Calls `message(i, emit)` for message after message until `count` lines were emitted, and writes them in time order,
 * as a feed (a Kafka topic, an API paged by time) delivers them: a message's later events, hours after its first,
 * come among other messages' events. `startOf(i)` is a time no event of message i or later precedes (it grows with i),
 * so the lines before it are written out and only a few hours of lines wait in memory.
 */
function generateLines(count: number, out: Out, startOf: (i: number) => number, message: (i: number, emit: Emit) => void, separator = '\n'): number {
  let accepted = 0;
  let written = 0;
  const waiting = new TimeOrder();
  const write = (line: string) => {
    out.write(separator === '\n' ? line + '\n' : written === 0 ? line : separator + line);
    written++;
  };
  const emit: Emit = (line, at) => {
    if (accepted >= count) return false;
    waiting.push(at, line);
    accepted++;
    return true;
  };
  for (let i = 0; accepted < count; i++) {
    const start = startOf(i);
    while (waiting.size > 0 && waiting.earliest() < start) write(waiting.pop());
    message(i, emit);
  }
  while (waiting.size > 0) write(waiting.pop());
  return written;
}

// ---------------------------------------------------------------------------------------------------------------
// OVO unified comms.feedback: comms with their lifecycle (Scheduled → Pending → Delivered → Opened → Interacted, or
// Failed / Cancelled / FailedCancellation / Expired), two in ten lines in Avro-JSON rendering, a third with ISO times.
// ---------------------------------------------------------------------------------------------------------------
const OVO_COMMS = [
  ['Email', 'One-off card payment', 'cc-payment-taken'],
  ['Email', 'Your monthly statement', 'monthly-statement'],
  ['Email', 'Your new tariff', 'tariff-change'],
  ['SMS', 'Meter reading reminder', 'meter-reading-reminder'],
  ['SMS', 'Payment due tomorrow', 'payment-due'],
  ['Print', 'Annual energy summary', 'annual-summary'],
] as const;
const OVO_FAILURES = [
  'Error: MissingTemplateData amount missing',
  'Error: InvalidProfile Customer profile has no email address',
  'Error: EmailAddressBlacklisted the address is on the blacklist',
  'Error: DuplicateCommError a comm with this id was already issued',
  'The Gateway had an error',
  'Error: ProfileRetrievalFailed profiles service timed out',
];

function ovoFeedback(rng: Prng, count: number, out: Out): number {
  let line = 0;
  const startOf = (c: number) => BASE + c * 7_000;
  return generateLines(count, out, startOf, (c, emit) => {
    const [channel, description, template] = OVO_COMMS[rng.int(0, OVO_COMMS.length - 1)]!;
    const commId = `c-${rng.hex(8)}-${c}`;
    const customer = rng.chance(0.92) ? { customerId: String(100000 + c) } : null;
    const templateManifest = rng.chance(0.7) ? { id: rng.hex(6), version: `0.${rng.int(1, 9)}` } : null;
    const traceToken = `t-${rng.hex(10)}`;
    let t = startOf(c);
    const outcome = rng.weighted({ delivered: 88, failed: 5, cancelled: 3, failedCancellation: 1, expired: 3 });
    const steps: Array<[string, string | null, string | null]> = [];
    if (rng.chance(0.2) || outcome === 'cancelled' || outcome === 'failedCancellation') steps.push(['Scheduled', null, null]);
    if (outcome === 'failed') steps.push(['Failed', rng.pick(OVO_FAILURES), null]);
    else if (outcome === 'cancelled') steps.push(['Cancelled', 'Cancelled by the customer service team', null]);
    else if (outcome === 'failedCancellation') steps.push(['FailedCancellation', 'The comm had already been sent', null]);
    else if (outcome === 'expired') steps.push(['Expired', 'Not sent before expireAt', null]);
    else {
      steps.push(['Pending', null, null], ['Delivered', null, null]);
      if (channel === 'Email' && rng.chance(0.4)) {
        steps.push(['Delivered', null, 'Opened']);
        if (rng.chance(0.3)) steps.push(['Delivered', null, 'Interacted']);
      }
    }
    for (const [status, text, emailFeedback] of steps) {
      t += rng.int(1, 90) * MINUTE;
      const suffix = (emailFeedback ?? status).toLowerCase();
      const i = line++;
      const createdAt = i % 3 === 1 ? iso(t) : t;
      const metadata = { eventId: `${commId}-feedback-${suffix}`, traceToken, createdAt };
      const record =
        i % 10 < 2
          ? {
              commId,
              commDescription: wrap('string', description),
              customer: wrap(`${NS}.Customer`, customer),
              status,
              description: wrap('string', text),
              email: wrap(`${NS}.feedback.EmailFeedback`, emailFeedback),
              channel: wrap(`${NS}.Channel`, channel),
              templateManifest: wrap(`${NS}.TemplateManifest`, templateManifest),
              metadata,
            }
          : {
              commId,
              commDescription: description,
              customer,
              status,
              description: text,
              email: emailFeedback,
              channel,
              ...(templateManifest ? { templateManifest } : {}),
              metadata,
              template,
            };
      if (!emit(JSON.stringify(record), t)) return;
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// OVO v2 per-channel records: email (Queued → Delivered → Opened → LinkClicked, or Bounced / Dropped), SMS (Accepted →
// Queued → Sent → Delivered, or Undelivered / Failed with Twilio codes), print (IssuedForDelivery), FailedV2, CancelledV2.
// ---------------------------------------------------------------------------------------------------------------
const BOUNCES = ['550 5.1.1 <customer@example.com>: user unknown', '452 4.2.2 mailbox full, try again later', '552 5.2.2 mailbox full'];
const DROPS = ['Not delivering to previously bounced address', 'Not delivering to a user who unsubscribed'];
const TWILIO_UNDELIVERED = ['30003', '30005', '30006', '30007', '30008'];
const TWILIO_FAILED = ['21610', '21211', '21614', '30001'];
const V2_ERRORS = [
  ['InvalidProfile', 'Customer profile has no email address'],
  ['MissingTemplateData', 'amount missing'],
  ['EmailGatewayError', 'Mailgun answered 500'],
  ['SMSGatewayError', 'Twilio answered 400'],
  ['EmailAddressBlacklisted', 'The address is on the blacklist'],
  ['DuplicateCommError', 'A comm with this id was already issued'],
] as const;

function ovoV2(rng: Prng, count: number, out: Out): number {
  let line = 0;
  const startOf = (k: number) => BASE + k * 6_000;
  return generateLines(count, out, startOf, (k, emit) => {
    const kind = rng.weighted({ email: 55, sms: 34, print: 5, failed: 4, cancelled: 2 });
    const traceToken = `tt-${k}-${rng.hex(6)}`;
    let t = startOf(k);
    const metadata = (deliverTo: Record<string, unknown>, name: string, description: string) => {
      t += rng.int(1, 30) * MINUTE;
      const i = line++;
      return {
        createdAt: i % 4 === 2 ? iso(t) : t,
        eventId: `e-${k}-${rng.hex(12)}`,
        traceToken,
        deliverTo,
        commManifest: { commType: rng.pick(['Service', 'Regulatory', 'Marketing']), name, version: `0.${rng.int(1, 9)}` },
        friendlyDescription: description,
        source: 'delivery-service',
        canary: rng.chance(0.01),
        sourceMetadata: null,
        triggerSource: rng.pick(['payments', 'billing', 'meter-readings']),
      };
    };
    const internalMetadata = { internalTraceToken: `it-${rng.hex(8)}` };
    const avro = rng.chance(0.2);
    const str = (v: string | null) => (avro ? wrap('string', v) : v);
    if (kind === 'email') {
      const deliverTo = rng.chance(0.5) ? { customerId: String(200000 + k) } : { emailAddress: email(k) };
      const gatewayMessageId = `20240503.${rng.hex(12)}@mg.example.com`;
      const fate = rng.weighted({ delivered: 92, bounced: 5, dropped: 3 });
      const steps: Array<[string, string | null]> =
        fate === 'delivered'
          ? [['Queued', null], ['Delivered', null]]
          : fate === 'bounced'
            ? [['Queued', null], ['Bounced', rng.pick(BOUNCES)]]
            : [['Dropped', rng.pick(DROPS)]];
      if (fate === 'delivered' && rng.chance(0.35)) steps.push(['Opened', null]);
      for (const [status, reason] of steps) {
        const record = { metadata: metadata(deliverTo, 'cc-payment-taken', 'One-off card payment'), internalMetadata, status, gateway: 'Mailgun', gatewayMessageId: str(gatewayMessageId), reason: str(reason) };
        if (!emit(JSON.stringify(record), t)) return;
      }
      if (steps.length === 3 && rng.chance(0.3)) {
        const click = { metadata: metadata(deliverTo, 'cc-payment-taken', 'One-off card payment'), internalMetadata, gateway: 'Mailgun', url: `https://www.example.com/account/payments?ref=${rng.hex(6)}` };
        emit(JSON.stringify(click), t);
      }
    } else if (kind === 'sms') {
      const deliverTo = rng.chance(0.5) ? { customerId: String(300000 + k) } : { phoneNumber: ukPhone(k) };
      const gatewayMessageId = `SM${rng.hex(32)}`;
      const fate = rng.weighted({ delivered: 90, undelivered: 6, failed: 4 });
      const steps: Array<[string, string | null]> = [['Accepted', null], ['Queued', null]];
      if (fate === 'failed') steps.push(['Failed', rng.pick(TWILIO_FAILED)]);
      else steps.push(['Sent', null], fate === 'delivered' ? ['Delivered', null] : ['Undelivered', rng.pick(TWILIO_UNDELIVERED)]);
      for (const [status, reason] of steps) {
        const record = { metadata: metadata(deliverTo, 'meter-reading-reminder', 'Meter reading reminder'), internalMetadata, status, gateway: 'Twilio', gatewayMessageId: str(gatewayMessageId), reason: str(reason) };
        if (!emit(JSON.stringify(record), t)) return;
      }
    } else if (kind === 'print') {
      const deliverTo = { postalAddress: { line1: `${rng.int(1, 99)} Example Street`, line2: null, town: 'Bristol', county: null, postcode: 'BS1 1AA', country: 'UK' } };
      emit(JSON.stringify({ metadata: metadata(deliverTo, 'annual-summary', 'Annual energy summary'), internalMetadata, channel: 'Print', gateway: 'Stannp', gatewayMessageId: String(6800000 + k) }), t);
    } else if (kind === 'failed') {
      const [errorCode, reason] = rng.pick(V2_ERRORS);
      emit(JSON.stringify({ metadata: metadata({ customerId: String(500000 + k) }, 'payment-due', 'Payment due tomorrow'), internalMetadata, reason, errorCode }), t);
    } else {
      const customerId = String(600000 + k);
      const cancellationRequested = {
        metadata: { createdAt: t, eventId: `cr-${k}-${rng.hex(8)}`, traceToken: `tt-${rng.hex(8)}`, source: 'cancellation-service', canary: false },
        commName: 'tariff-change',
        customerId,
      };
      emit(JSON.stringify({ metadata: metadata({ customerId }, 'tariff-change', 'Tariff change letter'), cancellationRequested }), t);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Crisisworks report: one row per delivery (its latest state), Excel-style (BOM, CRLF, quoted cells where needed).
// ---------------------------------------------------------------------------------------------------------------
const CW_COMMUNICATIONS = ['Road closure update', 'Flood warning: Example River', 'Evacuation centre open, Main St', 'Boil water notice'];
const CW_STATUSES = {
  Delivered: 45,
  Sent: 14,
  Read: 10,
  Pending: 5,
  'Not Sent': 3,
  'Bounced Temporarily': 4,
  Failed: 4,
  Acknowledged: 6,
  Responded: 5,
  'Opted-out': 4,
} as const;

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function crisisworks(rng: Prng, count: number, out: Out): number {
  out.write('\ufeffDelivery ID,Communication,Recipient,Delivery Type,Status,Response,Reason,Updated\r\n');
  for (let k = 0; k < count; k++) {
    const sms = rng.chance(0.4);
    let status: string = rng.weighted(CW_STATUSES);
    if (sms && status === 'Read') status = 'Delivered';
    const reason =
      status === 'Not Sent'
        ? rng.pick([sms ? 'Invalid mobile number' : 'Invalid email address', 'Provider rejected the message'])
        : status === 'Bounced Temporarily'
          ? rng.pick(['452 4.2.2 Mailbox full', 'Out of office auto-reply'])
          : status === 'Failed'
            ? rng.chance(0.8)
              ? '550 5.1.1 user unknown'
              : 'Spam complaint received from the recipient'
            : '';
    const response = status === 'Responded' ? rng.pick(['Safe', 'Need assistance', 'Leaving now']) : '';
    const updated = new Date(BASE + k * 4_000).toISOString();
    const row = [String(1_000_000 + k), rng.pick(CW_COMMUNICATIONS), sms ? auPhone(k) : email(k), sms ? 'SMS' : 'Email', status, response, reason, `${updated.slice(0, 10)} ${updated.slice(11, 19)}`];
    out.write(row.map(csvCell).join(',') + '\r\n');
  }
  return count;
}

// ---------------------------------------------------------------------------------------------------------------
// MasStack export: a JSON array of status records, one element per line (REGISTERED → SUBMITTED → DELIVERED → OPEN →
// CLICKED, or EXPIRED / UNDELIVERABLE / DEFERRED… with reasons), times with a +02:00 offset.
// ---------------------------------------------------------------------------------------------------------------
const MS_REASONS: Record<string, string> = {
  EXPIRED: 'Validity period expired: handset off or out of coverage',
  UNDELIVERABLE: 'The destination does not exist',
  DEFERRED: 'Temporary failure, will retry',
  REJECTED: 'Temporary reason, e.g. over quota',
  DROPPED: 'Dropped by the ESP: address on suppression list',
  FAILED: 'Internal error',
};

function masstack(rng: Prng, count: number, out: Out): number {
  out.write('[\n');
  const withOffset = (ms: number) => `${new Date(ms + 2 * 3_600_000).toISOString().slice(0, 19)}+02:00`;
  const requestOf = (k: number) => BASE + k * 5_000;
  const written = generateLines(
    count,
    out,
    requestOf,
    (k, emit) => {
      const sms = rng.chance(0.45);
      const id = `0f1c${rng.hex(4)}-${rng.hex(4)}-4${rng.hex(3)}-8${rng.hex(3)}-${rng.hex(12)}`;
      const request = requestOf(k);
      const fate = sms
        ? rng.weighted({ DELIVERED: 90, EXPIRED: 4, UNDELIVERABLE: 4, FAILED: 2 })
        : rng.weighted({ DELIVERED: 85, DEFERRED: 4, UNDELIVERABLE: 4, REJECTED: 2, DROPPED: 3, FAILED: 2 });
      const statuses = ['REGISTERED', 'SUBMITTED'];
      if (fate === 'DEFERRED') statuses.push('DEFERRED', 'DELIVERED');
      else statuses.push(fate);
      if (!sms && statuses.at(-1) === 'DELIVERED' && rng.chance(0.4)) {
        statuses.push('OPEN');
        if (rng.chance(0.3)) statuses.push('CLICKED');
      }
      let t = request;
      const contact = sms ? { terminatingNumber: `7700900${String(k % 1000).padStart(3, '0')}`, countryCode: 44 } : { destinationEmail: email(k) };
      for (const status of statuses) {
        t += rng.int(1, 60) * MINUTE;
        const record = {
          id,
          externalId: `sale-${12_500_000 + k}`,
          channel: sms ? 'SMS' : 'EMAIL',
          status,
          statusTime: withOffset(t),
          requestTime: withOffset(request),
          ...contact,
          ...(MS_REASONS[status] ? { reason: MS_REASONS[status] } : {}),
        };
        if (!emit(JSON.stringify(record), t)) return;
      }
    },
    ',\n',
  );
  out.write('\n]\n');
  return written;
}

const GENERATORS: Record<BenchSource, { file: string; write: (rng: Prng, count: number, out: Out) => number }> = {
  'ovo-feedback': { file: 'ovo-feedback.ndjson', write: ovoFeedback },
  'ovo-v2': { file: 'ovo-v2.ndjson', write: ovoV2 },
  crisisworks: { file: 'crisisworks-report.csv', write: crisisworks },
  masstack: { file: 'masstack-export.json', write: masstack },
};

/**
 * Writes `total` records, split over the sources by {@link SOURCE_SHARES}, into `dir`. Same seed, same bytes.
 * Each source gets its own generator seeded from `seed`, so one source's count never changes another's content.
 */
export function generateInputs(dir: string, total: number, seed: number): GeneratedInput[] {
  mkdirSync(dir, { recursive: true });
  const counts = splitRecords(total);
  const inputs: GeneratedInput[] = [];
  let n = 0;
  for (const source of Object.keys(GENERATORS) as BenchSource[]) {
    const { file, write } = GENERATORS[source];
    const out = new Out(join(dir, file));
    const records = write(new Prng(seed * 31 + ++n), counts[source], out);
    out.close();
    inputs.push({ source, path: out.path, records, bytes: out.bytes });
  }
  return inputs;
}
