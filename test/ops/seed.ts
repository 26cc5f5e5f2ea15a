/** Seeds a state database with runs, ledger entries, dead letters and checkpoints, the way the pipeline writes them. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDb, type Db } from '../../src/store/db.js';
import { StateStore, type LedgerEntry } from '../../src/store/state.js';

export interface Seeded {
  db: Db;
  store: StateStore;
  inputFile: string;
  runIds: number[];
}

const channels = ['email', 'sms', 'direct-mail'];

/** A deterministic mix of outcomes over three days and three channels. */
export function ledgerEntries(count: number, source = 'ovo'): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  for (let i = 0; i < count; i++) {
    const channel = channels[i % 3]!;
    const day = `2024-03-0${1 + (i % 3)}`;
    const kind = i % 10;
    const e: LedgerEntry = {
      id: `00000000-0000-5000-8000-${String(i).padStart(12, '0')}`,
      source,
      sink: 'adobe-streaming',
      eventTime: `${day}T${String(i % 24).padStart(2, '0')}:00:00.000Z`,
      eventType: kind >= 8 ? 'message.tracking' : 'message.feedback',
    };
    if (kind <= 2) e.status = 'delivered';
    else if (kind === 3) Object.assign(e, { status: 'bounce', failureType: 'hard', failureCategory: 'async', failureCode: '5.1.1' });
    else if (kind === 4) Object.assign(e, { status: 'bounce', failureType: 'soft', failureCategory: 'async', failureCode: '4.2.2' });
    else if (kind === 5) Object.assign(e, { status: 'delay', failureType: 'soft', failureCategory: 'async', failureCode: '30003' });
    else if (kind === 6) Object.assign(e, { status: 'exclude', exclusionCode: i % 2 ? 'cancelled' : 'expired' });
    else if (kind === 7) Object.assign(e, { status: 'error', failureType: 'soft', failureCategory: 'sync', failureCode: 'TemplateError' });
    else e.status = kind === 8 ? 'open' : 'click';
    if (e.eventType === 'message.feedback') e.retryCount = i % 4 === 0 ? 1 : 0;
    e.channel = channel;
    out.push(e);
  }
  return out;
}

export function seedState(dir: string, name = 'state.db'): Seeded {
  const db = openDb(join(dir, name));
  const store = new StateStore(db);
  const inputFile = join(dir, `${name}.input.ndjson`);
  writeFileSync(inputFile, 'x'.repeat(1000));
  const runIds: number[] = [];

  const r1 = store.startRun('sync', undefined, 'adobe-streaming');
  runIds.push(r1);
  store.commitUnit({
    runId: r1,
    source: 'ovo',
    checkpoints: [{ stream: inputFile, position: `{"fingerprint":{"head":"h","headBytes":10,"size":600},"offset":600,"line":12}` }],
    accepted: ledgerEntries(30),
    deadLetters: [
      { source: 'ovo', stage: 'map', raw: '{"status":"Weird"}', reason: 'unknown status "Weird"', stream: inputFile, position: '1' },
      { source: 'ovo', stage: 'map', raw: '{"status":"Weird2"}', reason: 'unknown status "Weird2"', stream: inputFile, position: '2' },
      { source: 'ovo', stage: 'validate', raw: '{"a":1}', reason: 'the mapped XDM event is invalid: /timestamp: must match format', errors: ['/timestamp: must match format "date-time"'] },
      { source: 'ovo', stage: 'decode', raw: 'not json, "quoted"', reason: 'line 7: Unexpected token' },
    ],
  });
  store.finishRun(r1, 3, { read: 34, sent: 30, skipped: 0, alreadySent: 0, deadLettered: 4, durationMs: 1200 });
  const r2 = store.startRun('sync', undefined, 'adobe-streaming');
  runIds.push(r2);
  store.commitUnit({
    runId: r2,
    source: 'masstack',
    checkpoints: [{ stream: 'watermark', position: '2024-03-03T00:00:00Z' }],
    accepted: ledgerEntries(12, 'masstack').map((e) => ({ ...e, id: e.id.replace('8000', '9000') })),
    deadLetters: [{ source: 'masstack', stage: 'ingest', raw: '{"id":"x"}', reason: 'Adobe rejected the event: 400 XDM validation' }],
  });
  store.finishRun(r2, 3, { read: 13, sent: 12, skipped: 0, alreadySent: 0, deadLettered: 1, durationMs: 800 }, 'one event was rejected');
  return { db, store, inputFile, runIds };
}
