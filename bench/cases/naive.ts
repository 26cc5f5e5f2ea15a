/**
 * The naive connector, as one would write it by hand: for each record, map it, validate it with AJV and POST it alone
 * to DCS's single-message endpoint, waiting for each answer before the next (no batching, no state, no retries).
 */
import { resolve } from 'node:path';
import { localDefaults } from '../../src/aep-local/defaults.js';
import { packageRoot } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { loadMapping } from '../../src/mapping/index.js';
import { createSource } from '../../src/sources/index.js';
import { JsonBytes } from '../../src/core/json-bytes.js';
import { EnvelopeEncoder, envelopeText } from '../../src/sinks/adobe-streaming/encode.js';
import { createValidator } from '../../src/validate/index.js';
import type { SourceConfig } from '../../src/sources/config.js';
import { envelopeFields } from '../config.js';
import { dcsHeaders, localToken } from '../local-token.js';
import type { CaseOutcome, CaseSpec } from '../case-types.js';

export async function runNaiveCase(spec: CaseSpec): Promise<CaseOutcome> {
  const headers = dcsHeaders(await localToken(spec.endpoints));
  const validator = createValidator();
  const encoder = new EnvelopeEncoder(envelopeFields(), localDefaults.imsOrgId);
  let records = 0;
  let events = 0;
  let invalid = 0;
  const started = performance.now();
  for (const input of spec.inputs) {
    const source = createSource({ type: input.source, files: [input.path] } as SourceConfig, { baseDir: process.cwd() });
    const mapper = loadMapping(resolve(packageRoot(), 'mappings', `${input.source}.json`), { source: input.source });
    const ctx = { checkpoint: () => undefined, signal: new AbortController().signal, log: silentLogger };
    for await (const batch of source.read(ctx)) {
      for (const item of batch) {
        records++;
        if (item.kind !== 'record') continue;
        const result = mapper.map(item.record);
        if (result.kind !== 'event') continue;
        const event = result.mapped.event;
        if (validator.validate(event)) {
          invalid++;
          continue;
        }
        const encoded = encoder.encode({ id: event._id, eventType: event.eventType, json: JsonBytes.of(JSON.stringify(event)) });
        if (!encoded.ok) continue;
        const res = await fetch(spec.endpoints.dcsUrl, { method: 'POST', headers, body: envelopeText(encoded) });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`naive: DCS answered ${res.status}`);
        events++;
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const bytes = spec.inputs.reduce((n, i) => n + i.bytes, 0);
  return { records, events, seconds, bytes, details: { invalid, requests: events } };
}
