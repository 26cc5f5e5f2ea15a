/**
 * Each stage alone, on one core, over the same inputs: decode (the real sources), map, validate (AJV and the
 * AEP rules), serialise (JSON text and envelope), enrich (ledger and history lookups) and commit (SQLite ledger writes).
 */
import { join, resolve } from 'node:path';
import { localDefaults } from '../../src/aep-local/defaults.js';
import { packageRoot } from '../../src/config/load.js';
import type { JsonObject, MappedEvent } from '../../src/core/types.js';
import { ledgerEntryFor, setRetryCount } from '../../src/core/xdm-fields.js';
import { silentLogger } from '../../src/log.js';
import { loadMapping } from '../../src/mapping/index.js';
import { JsonBytes } from '../../src/core/json-bytes.js';
import { EnvelopeEncoder } from '../../src/sinks/adobe-streaming/encode.js';
import type { SourceConfig } from '../../src/sources/config.js';
import { createSource } from '../../src/sources/index.js';
import { openDb } from '../../src/store/db.js';
import { StateStore, type LedgerEntry } from '../../src/store/state.js';
import { createValidator } from '../../src/validate/index.js';
import { envelopeFields } from '../config.js';
import type { CaseOutcome, CaseSpec } from '../case-types.js';

const UNIT = 500;

function rate(records: number, ms: number) {
  const seconds = ms / 1000;
  return { records, seconds, perSecond: seconds > 0 ? records / seconds : 0 };
}

export async function runStagesCase(spec: CaseSpec): Promise<CaseOutcome> {
  const ctx = { checkpoint: () => undefined, signal: new AbortController().signal, log: silentLogger };
  const ms = { decode: 0, map: 0, validate: 0, serialise: 0, enrich: 0, commit: 0 };
  let decoded = 0;
  const mapped: Array<{ source: string; mapped: MappedEvent }> = [];
  const started = performance.now();

  for (const input of spec.inputs) {
    const source = createSource({ type: input.source, files: [input.path] } as SourceConfig, { baseDir: process.cwd() });
    const records: JsonObject[] = [];
    let t = performance.now();
    for await (const batch of source.read(ctx)) for (const item of batch) if (item.kind === 'record') records.push(item.record);
    ms.decode += performance.now() - t;
    decoded += records.length;

    const mapper = loadMapping(resolve(packageRoot(), 'mappings', `${input.source}.json`), { source: input.source });
    t = performance.now();
    for (const record of records) {
      const result = mapper.map(record);
      if (result.kind === 'event') mapped.push({ source: input.source, mapped: result.mapped });
    }
    ms.map += performance.now() - t;
  }

  const db = openDb(join(spec.workDir, 'stages.db'));
  const store = new StateStore(db);
  const enrich = db.transaction((slice: typeof mapped) => {
    for (const { source, mapped: m } of slice) {
      if (store.isSent(m.event._id, m.event.timestamp)) continue;
      setRetryCount(m.event, store.placeInHistory(source, m.sourceEventId, m.message, m.outcome));
    }
  });
  let t = performance.now();
  for (let i = 0; i < mapped.length; i += UNIT) enrich(mapped.slice(i, i + UNIT));
  ms.enrich = performance.now() - t;

  const validator = createValidator();
  let invalid = 0;
  t = performance.now();
  for (const { mapped: m } of mapped) if (validator.validate(m.event)) invalid++;
  ms.validate = performance.now() - t;

  const encoder = new EnvelopeEncoder(envelopeFields(), localDefaults.imsOrgId);
  const ledger: LedgerEntry[] = new Array(mapped.length);
  let envelopeBytes = 0;
  t = performance.now();
  for (let i = 0; i < mapped.length; i++) {
    const event = mapped[i]!.mapped.event;
    const encoded = encoder.encode({ id: event._id, eventType: event.eventType, json: JsonBytes.of(JSON.stringify(event)) });
    if (encoded.ok) envelopeBytes += encoded.bytes;
    ledger[i] = ledgerEntryFor(event, mapped[i]!.source, 'adobe-streaming');
  }
  ms.serialise = performance.now() - t;

  t = performance.now();
  for (let i = 0; i < ledger.length; i += UNIT) {
    store.commitUnit({ runId: 1, source: 'bench', checkpoints: [{ stream: 'bench', position: String(i) }], accepted: ledger.slice(i, i + UNIT), deadLetters: [] });
  }
  ms.commit = performance.now() - t;
  db.close();

  const events = mapped.length;
  return {
    records: decoded,
    events,
    seconds: (performance.now() - started) / 1000,
    bytes: spec.inputs.reduce((n, i) => n + i.bytes, 0),
    rates: {
      decode: rate(decoded, ms.decode),
      map: rate(decoded, ms.map),
      enrich: rate(events, ms.enrich),
      validate: rate(events, ms.validate),
      serialise: rate(events, ms.serialise),
      commit: rate(events, ms.commit),
    },
    details: { invalid, envelopeBytes },
  };
}
