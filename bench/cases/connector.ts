/** The real connector: `runConnector` (source → map → enrich → validate → sink → SQLite commit), as `sync` runs it. */
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { runConnector } from '../../src/core/run.js';
import { totalDeadLettered } from '../../src/core/pipeline.js';
import { setStageTimer, StageTotals } from '../../src/core/stage-timer.js';
import { benchConfig } from '../config.js';
import type { CaseOutcome, CaseSpec } from '../case-types.js';

export async function runConnectorCase(spec: CaseSpec): Promise<CaseOutcome> {
  const sink = spec.sink ?? 'adobe-streaming';
  const config = benchConfig({
    endpoints: spec.endpoints,
    inputs: spec.inputs,
    statePath: join(spec.workDir, 'state.db'),
    sink,
    concurrency: spec.concurrency,
    ...(spec.envelopesPath ? { filePath: spec.envelopesPath } : {}),
  });
  const log = createLogger({ level: 'warn', pretty: false });
  const totals = new StageTotals();
  setStageTimer(totals);
  const started = performance.now();
  const result = await runConnector(config, { command: 'sync', log });
  const seconds = (performance.now() - started) / 1000;
  setStageTimer(undefined);
  if (result.error) throw new Error(`the connector failed: ${result.error}`);
  let read = 0;
  let sent = 0;
  let skipped = 0;
  let deadLettered = 0;
  let alreadySent = 0;
  const sinkStats: Record<string, number> = {};
  for (const s of result.summaries) {
    read += s.read;
    sent += s.sent;
    skipped += s.skipped;
    alreadySent += s.alreadySent;
    deadLettered += totalDeadLettered(s);
    for (const [k, v] of Object.entries(s.sinkStats)) if (typeof v === 'number') sinkStats[k] = Math.max(sinkStats[k] ?? 0, v);
  }
  const bytes = spec.inputs.reduce((n, i) => n + i.bytes, 0);
  const stages: Record<string, number> = { ...totals.ms };
  return {
    records: read,
    events: sent,
    seconds,
    bytes,
    stages,
    details: {
      exitCode: result.exitCode,
      skipped,
      deadLettered,
      alreadySent,
      sink,
      ...(sinkStats.requests !== undefined ? { requests: sinkStats.requests, concurrencyMax: sinkStats.concurrencyMax, retries: sinkStats.retries } : {}),
    },
  };
}
