#!/usr/bin/env node
// Generates the demo's sample inputs in this folder, deterministically: `node examples/data/generate.mjs`.
// PRNG: mulberry32 with SEED below; change the seed and the outputs change, rerun and they do not.
// All personal data is fake: example.com addresses, +447700900xxx (UK Ofcom drama range) and +61491570xxx
// (Australian ACMA fictitious range) numbers, customer ids starting at 100000.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SEED = 20240601;
const OUT = dirname(fileURLToPath(import.meta.url));

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(SEED);
const pick = (list) => list[Math.floor(random() * list.length)];
const int = (min, max) => min + Math.floor(random() * (max - min + 1));
const hex = (n) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');

const BASE = Date.UTC(2024, 4, 1, 8, 0, 0); // 2024-05-01T08:00:00Z
const MINUTE = 60_000;
const ukPhone = (i) => `+447700900${String(i % 1000).padStart(3, '0')}`;
const auPhone = (i) => `+61491570${String(i % 1000).padStart(3, '0')}`;
const email = (i) => `customer${i}@example.com`;

const NS = 'com.ovoenergy.comms.model';
/** Avro JSON encoding of a ["null", X] union value. */
const wrap = (branch, value) => (value === null || value === undefined ? null : { [branch]: value });

// ---------------------------------------------------------------------------------------------------------------
// OVO unified comms.feedback
// ---------------------------------------------------------------------------------------------------------------
const COMMS = [
  ['Email', 'One-off card payment', 'cc-payment-taken'],
  ['Email', 'Your monthly statement', 'monthly-statement'],
  ['SMS', 'Meter reading reminder', 'meter-reading-reminder'],
  ['SMS', 'Payment due tomorrow', 'payment-due'],
  ['Print', 'Annual energy summary', 'annual-summary'],
  ['Print', 'Tariff change letter', 'tariff-change'],
];
const FAILURES = [
  'Error: MissingTemplateData amount missing',
  'Error: InvalidProfile Customer profile has no email address',
  'Error: InvalidTemplate template cc-payment-taken 0.3 does not compile',
  'Error: EmailAddressBlacklisted the address is on the blacklist',
  'Error: DuplicateCommError a comm with this id was already issued',
  'The Gateway had an error',
  'Error: ProfileRetrievalFailed profiles service timed out',
];

function feedbackLines() {
  const events = [];
  let n = 0;
  for (let c = 0; c < 90; c++) {
    const [channel, description, template] = COMMS[c % COMMS.length];
    const commId = `c-${hex(8)}-${String(c).padStart(3, '0')}`;
    const customer = c % 9 === 4 ? null : { customerId: String(100000 + c) };
    const templateManifest = c % 3 === 0 ? null : { id: hex(6), version: `0.${int(1, 9)}` };
    const traceToken = `t-${hex(10)}`;
    let t = BASE + c * 37 * MINUTE;
    const outcome = c % 10; // 0-5 delivered, 6 failed, 7 cancelled, 8 failed-cancellation, 9 expired
    const steps = [];
    if (c % 4 === 0 || outcome >= 7) steps.push(['Scheduled']);
    if (outcome === 6) steps.push(['Failed', FAILURES[c % FAILURES.length]]);
    else if (outcome === 7) steps.push(['Cancelled', 'Cancelled by the customer service team']);
    else if (outcome === 8) steps.push(['FailedCancellation', 'The comm had already been sent']);
    else if (outcome === 9) steps.push(['Expired', 'Not sent before expireAt']);
    else {
      steps.push(['Pending'], ['Delivered']);
      if (channel === 'Email' && c % 2 === 0) steps.push(['Delivered', null, 'Opened']);
      if (channel === 'Email' && c % 4 === 0) steps.push(['Delivered', null, 'Interacted']);
    }
    for (const [status, text, emailFeedback] of steps) {
      t += int(1, 90) * MINUTE;
      const suffix = emailFeedback ? emailFeedback.toLowerCase() : status.toLowerCase();
      events.push({
        commId,
        commDescription: n % 5 === 3 ? null : description,
        customer,
        status,
        description: text ?? null,
        email: emailFeedback ?? null,
        channel,
        templateManifest,
        metadata: { eventId: `${commId}-feedback-${suffix}`, traceToken, createdAt: t },
        template,
      });
      n++;
    }
  }
  const lines = events.map((e, i) => {
    const isoTime = i % 3 === 1; // 2017-style ISO strings on every third line
    const createdAt = isoTime ? new Date(e.metadata.createdAt).toISOString() : e.metadata.createdAt;
    const avro = i % 5 < 2; // Avro-JSON rendering on two lines in five
    const record = avro
      ? {
          commId: e.commId,
          commDescription: wrap('string', e.commDescription),
          customer: wrap(`${NS}.Customer`, e.customer && { customerId: e.customer.customerId }),
          status: e.status,
          description: wrap('string', e.description),
          email: wrap(`${NS}.feedback.EmailFeedback`, e.email),
          channel: wrap(`${NS}.Channel`, e.channel),
          templateManifest: wrap(`${NS}.TemplateManifest`, e.templateManifest),
          metadata: { eventId: e.metadata.eventId, traceToken: e.metadata.traceToken, createdAt },
        }
      : {
          commId: e.commId,
          ...(e.commDescription !== null ? { commDescription: e.commDescription } : {}),
          customer: e.customer,
          status: e.status,
          description: e.description,
          email: e.email,
          channel: e.channel,
          ...(e.templateManifest ? { templateManifest: e.templateManifest } : {}),
          metadata: { eventId: e.metadata.eventId, traceToken: e.metadata.traceToken, createdAt },
        };
    return JSON.stringify(record);
  });
  // Malformed input the source must dead-letter with a reason, never crash on.
  const bad = [
    [40, '{"commId":"c-truncated-001","status":"Delivered","metadata":{"eventId":"c-truncated-001-feedback-delivered","traceTo'],
    [85, '["not","an","object"]'],
    [130, 'this line is not JSON at all'],
    [175, Buffer.from([0x7b, 0x22, 0x63, 0x6f, 0x6d, 0x6d, 0x49, 0x64, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])], // invalid UTF-8
  ];
  const parts = [];
  lines.forEach((line, i) => {
    for (const [at, text] of bad) if (at === i) parts.push(Buffer.isBuffer(text) ? text : Buffer.from(text));
    if (i === 60) parts.push(Buffer.from('')); // a blank line
    parts.push(Buffer.from(line));
  });
  return Buffer.concat(parts.flatMap((p) => [p, Buffer.from('\n')]));
}

// ---------------------------------------------------------------------------------------------------------------
// OVO per-channel v2 topics
// ---------------------------------------------------------------------------------------------------------------
function metadataV2(i, deliverTo, name, description, t, avro) {
  const deliver = avro
    ? deliverTo.customerId !== undefined
      ? { [`${NS}.Customer`]: deliverTo }
      : {
          [`${NS}.ContactDetails`]: {
            emailAddress: wrap('string', deliverTo.emailAddress ?? null),
            phoneNumber: wrap('string', deliverTo.phoneNumber ?? null),
            postalAddress: wrap(`${NS}.CustomerAddress`, deliverTo.postalAddress ?? null),
          },
        }
    : deliverTo;
  return {
    createdAt: t,
    eventId: `e-${hex(12)}`,
    traceToken: `tt-${String(i).padStart(4, '0')}-${hex(6)}`,
    deliverTo: deliver,
    commManifest: { commType: pick(['Service', 'Regulatory', 'Marketing']), name, version: `0.${int(1, 9)}` },
    friendlyDescription: description,
    source: 'delivery-service',
    canary: i % 17 === 0,
    sourceMetadata: null,
    triggerSource: pick(['payments', 'billing', 'meter-readings']),
  };
}

function v2Lines() {
  const out = [];
  let i = 0;
  const time = (k) => BASE + 2 * 86_400_000 + k * 23 * MINUTE;
  const render = (record, k) => {
    // ISO times on every fourth record (the 2017 Avro-JSON fixtures carried ISO strings).
    if (k % 4 === 2) {
      record.metadata.createdAt = new Date(record.metadata.createdAt).toISOString();
      if (record.cancellationRequested) record.cancellationRequested.metadata.createdAt = new Date(record.cancellationRequested.metadata.createdAt).toISOString();
    }
    out.push(JSON.stringify(record));
  };
  const internal = () => ({ internalTraceToken: `it-${hex(8)}` });

  const emailCases = [
    ['Queued', null],
    ['Delivered', null],
    ['Opened', null],
    ['Bounced', '550 5.1.1 <customer@example.com>: user unknown'],
    ['Bounced', '452 4.2.2 mailbox full, try again later'],
    ['Bounced', '552 5.2.2 mailbox full'],
    ['Dropped', 'Not delivering to previously bounced address'],
    ['Dropped', 'Not delivering to a user who unsubscribed'],
    ['Dropped', 'Not delivering to a user who marked your messages as spam'],
  ];
  for (let r = 0; r < 4; r++) {
    for (const [status, reason] of emailCases) {
      const k = i++;
      const avro = k % 3 === 0;
      const deliverTo = k % 2 === 0 ? { customerId: String(200000 + k) } : { emailAddress: email(k) };
      const record = {
        metadata: metadataV2(k, deliverTo, 'cc-payment-taken', 'One-off card payment', time(k), avro),
        internalMetadata: internal(),
        status,
        gateway: 'Mailgun',
        gatewayMessageId: avro ? wrap('string', `20240503.${hex(12)}@mg.example.com`) : `20240503.${hex(12)}@mg.example.com`,
        reason: avro ? wrap('string', reason) : reason,
      };
      render(record, k);
      if (status === 'Opened' && r % 2 === 0) {
        const c = i++;
        render(
          {
            metadata: metadataV2(c, deliverTo, 'cc-payment-taken', 'One-off card payment', time(c), false),
            internalMetadata: internal(),
            gateway: 'Mailgun',
            url: `https://www.example.com/account/payments?ref=${hex(6)}`,
          },
          c,
        );
      }
    }
  }
  const smsCases = [
    ['Accepted', null],
    ['Queued', null],
    ['Sent', null],
    ['Delivered', null],
    ['Undelivered', '30003'],
    ['Undelivered', '30005'],
    ['Undelivered', '30006'],
    ['Undelivered', '30007'],
    ['Undelivered', '30008'],
    ['Failed', '21610'],
    ['Failed', '21211'],
    ['Failed', '21614'],
    ['Failed', '30001'],
  ];
  for (let r = 0; r < 3; r++) {
    for (const [status, reason] of smsCases) {
      const k = i++;
      const avro = k % 3 === 1;
      const deliverTo = k % 2 === 0 ? { customerId: String(300000 + k) } : { phoneNumber: ukPhone(k) };
      render(
        {
          metadata: metadataV2(k, deliverTo, 'meter-reading-reminder', 'Meter reading reminder', time(k), avro),
          internalMetadata: internal(),
          status,
          gateway: 'Twilio',
          gatewayMessageId: `SM${hex(32)}`,
          reason: avro ? wrap('string', reason) : reason,
        },
        k,
      );
    }
  }
  for (let r = 0; r < 8; r++) {
    const k = i++;
    const channel = ['Print', 'Print', 'Email', 'SMS'][r % 4];
    const deliverTo =
      channel === 'Print'
        ? { postalAddress: { line1: `${int(1, 99)} Example Street`, line2: null, town: 'Bristol', county: null, postcode: 'BS1 1AA', country: 'UK' } }
        : { customerId: String(400000 + k) };
    render(
      {
        metadata: metadataV2(k, deliverTo, 'annual-summary', 'Annual energy summary', time(k), r % 2 === 1),
        internalMetadata: internal(),
        channel,
        gateway: channel === 'Print' ? 'Stannp' : channel === 'Email' ? 'Mailgun' : 'Twilio',
        gatewayMessageId: channel === 'Print' ? String(6800000 + k) : `gw-${hex(10)}`,
      },
      k,
    );
  }
  const codes = [
    ['InvalidProfile', 'Customer profile has no email address'],
    ['ProfileRetrievalFailed', 'Profiles service timed out'],
    ['InvalidTemplate', 'Template does not compile'],
    ['MissingTemplateData', 'amount missing'],
    ['TemplateDownloadFailed', 'S3 answered 503'],
    ['CompositionError', 'Could not render the PDF'],
    ['EmailGatewayError', 'Mailgun answered 500'],
    ['SMSGatewayError', 'Twilio answered 400'],
    ['PrintGatewayError', 'Stannp answered 401'],
    ['EmailAddressBlacklisted', 'The address is on the blacklist'],
    ['UnexpectedDeliveryError', 'Unexpected error'],
    ['DuplicateCommError', 'A comm with this id was already issued'],
    ['CommExpired', 'Not sent before expireAt'],
    ['OrchestrationError', 'Orchestration failed'],
  ];
  for (const [errorCode, reason] of codes) {
    const k = i++;
    render(
      {
        metadata: metadataV2(k, { customerId: String(500000 + k) }, 'payment-due', 'Payment due tomorrow', time(k), k % 2 === 0),
        internalMetadata: internal(),
        reason,
        errorCode,
      },
      k,
    );
  }
  for (let r = 0; r < 6; r++) {
    const k = i++;
    const customerId = String(600000 + k);
    const cancellationRequested = {
      metadata: { createdAt: time(k) - 5 * MINUTE, eventId: `cr-${hex(8)}`, traceToken: `tt-${hex(8)}`, source: 'cancellation-service', canary: false },
      commName: 'tariff-change',
      customerId,
    };
    if (r % 2 === 0) {
      render({ metadata: metadataV2(k, { customerId }, 'tariff-change', 'Tariff change letter', time(k), r === 2), cancellationRequested }, k);
    } else {
      render(
        {
          metadata: { createdAt: time(k), eventId: `e-${hex(12)}`, traceToken: `tt-${hex(8)}`, source: 'cancellation-service', canary: false },
          cancellationRequested,
          reason: 'The comm had already been sent',
        },
        k,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// Crisisworks delivery report (Excel-style: UTF-8 BOM, CRLF)
// ---------------------------------------------------------------------------------------------------------------
function csvCell(value) {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
function crisisworksCsv() {
  const header = ['Delivery ID', 'Communication', 'Recipient', 'Delivery Type', 'Status', 'Response', 'Reason', 'Updated'];
  const communications = ['Road closure update', 'Flood warning: Example River', 'Evacuation centre open, Main St', 'Boil water notice'];
  const statuses = ['Pending', 'Sent', 'Not Sent', 'Delivered', 'Bounced Temporarily', 'Failed', 'Read', 'Acknowledged', 'Responded', 'Opted-out'];
  const rows = [];
  for (let k = 0; k < 60; k++) {
    const sms = k % 3 === 0;
    let status = statuses[k % statuses.length];
    if (sms && status === 'Read') status = 'Delivered'; // Read is email only
    const reason =
      status === 'Not Sent'
        ? pick([sms ? 'Invalid mobile number' : 'Invalid email address', 'Provider rejected the message'])
        : status === 'Bounced Temporarily'
          ? pick(['452 4.2.2 Mailbox full', 'Out of office auto-reply'])
          : status === 'Failed'
            ? k % 2 === 0
              ? '550 5.1.1 user unknown'
              : 'Spam complaint received from the recipient'
            : '';
    const response = status === 'Responded' ? pick(['Safe', 'Need assistance', 'Leaving now']) : '';
    const t = new Date(BASE + 5 * 86_400_000 + k * 7 * MINUTE);
    const updated = `${t.toISOString().slice(0, 10)} ${t.toISOString().slice(11, k % 2 === 0 ? 19 : 16)}`;
    rows.push([String(48200 + k), communications[k % communications.length], sms ? auPhone(k) : email(k), sms ? 'SMS' : 'Email', status, response, reason, updated]);
  }
  // Awkward rows: a response with a comma and quotes, a reason spanning two lines.
  rows[8][5] = 'Need "urgent" assistance, 2 people';
  rows[15][6] = 'Mailbox full\nwill retry';
  const lines = [header, ...rows].map((r) => r.map(csvCell).join(','));
  lines.splice(20, 0, ''); // a blank line in the middle
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

// ---------------------------------------------------------------------------------------------------------------
// MasStack status records (JSON array export)
// ---------------------------------------------------------------------------------------------------------------
function masstackExport() {
  const statuses = ['REGISTERED', 'SUBMITTED', 'DELIVERED', 'OPEN', 'CLICKED', 'EXPIRED', 'UNDELIVERABLE', 'DEFERRED', 'REJECTED', 'DROPPED', 'FAILED'];
  const smsOnly = new Set(['EXPIRED']);
  const emailOnly = new Set(['OPEN', 'CLICKED', 'DEFERRED', 'REJECTED', 'DROPPED']);
  const reasons = {
    EXPIRED: 'Validity period expired: handset off or out of coverage',
    UNDELIVERABLE: 'The destination does not exist',
    DEFERRED: 'Temporary failure, will retry',
    REJECTED: 'Temporary reason, e.g. over quota',
    DROPPED: 'Dropped by the ESP: address on suppression list',
    FAILED: 'Internal error',
  };
  const records = [];
  for (let k = 0; k < 88; k++) {
    const status = statuses[k % statuses.length];
    const channel = smsOnly.has(status) ? 'SMS' : emailOnly.has(status) ? 'EMAIL' : k % 2 === 0 ? 'SMS' : 'EMAIL';
    const request = BASE + 9 * 86_400_000 + k * 11 * MINUTE;
    const statusAt = request + int(0, 120) * MINUTE;
    // ISO-8601 with a +02:00 offset, as the API writes times.
    const withOffset = (ms) => `${new Date(ms + 2 * 3_600_000).toISOString().slice(0, 19)}+02:00`;
    const phone = k % 2 === 0 ? ukPhone(k) : auPhone(k);
    const record = {
      id: `0f1c${hex(4)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${hex(12)}`,
      externalId: `sale-${12500000 + k}`,
      channel,
      status,
      statusTime: withOffset(statusAt),
      requestTime: withOffset(request),
      ...(channel === 'SMS' ? { terminatingNumber: phone.startsWith('+44') ? phone.slice(3) : phone.slice(3), countryCode: phone.startsWith('+44') ? 44 : 61 } : { destinationEmail: email(k) }),
      ...(reasons[status] ? { reason: reasons[status] } : {}),
    };
    records.push(record);
  }
  // Two records sharing one status time (the watermark tie case).
  records[21].statusTime = records[20].statusTime;
  return `${JSON.stringify(records, null, 2)}\n`;
}

writeFileSync(join(OUT, 'ovo-feedback.ndjson'), feedbackLines());
writeFileSync(join(OUT, 'ovo-v2.ndjson'), v2Lines());
writeFileSync(join(OUT, 'crisisworks-report.csv'), crisisworksCsv());
writeFileSync(join(OUT, 'masstack-export.json'), masstackExport());
console.log(`wrote ovo-feedback.ndjson, ovo-v2.ndjson, crisisworks-report.csv, masstack-export.json to ${OUT} (seed ${SEED})`);
