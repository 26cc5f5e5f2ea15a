/** The connector configurations the bench runs: every generated input, against the imitation or into a file. */
import { buildConfig, type Config } from '../src/config/load.js';
import { localDefaults } from '../src/aep-local/defaults.js';
import type { GeneratedInput } from './generate.js';
import type { AepEndpoints } from './ipc.js';

const SECRET_ENV = 'XDM_FEEDBACK_BENCH_CLIENT_SECRET';

export type BenchSink = 'adobe-streaming' | 'file' | 'adobe-batch';

export interface BenchConfigOptions {
  endpoints: AepEndpoints;
  inputs: readonly GeneratedInput[];
  statePath: string;
  sink: BenchSink;
  /** DCS requests in flight at most. */
  concurrency: number;
  /** The file sink's output. */
  filePath?: string;
}

/** Largest DCS batch the connector allows (and the floor uses): 1 MB bodies, 5000 messages. */
export const MAX_BATCH_BYTES = 1_000_000;
export const MAX_BATCH_EVENTS = 5_000;

/** The envelope fields every sink uses: AJO's two datasets on the imitation's schema. */
export function envelopeFields() {
  return {
    flowId: localDefaults.flowId,
    eventTypes: {
      'message.feedback': { datasetId: localDefaults.datasets.feedback, schemaRef: localDefaults.schemaId },
      'message.tracking': { datasetId: localDefaults.datasets.tracking, schemaRef: localDefaults.schemaId },
    },
  };
}

/** A validated connector configuration, as a user would write it, for one bench case. */
export function benchConfig(options: BenchConfigOptions): Config {
  process.env[SECRET_ENV] = localDefaults.clientSecret;
  const { endpoints } = options;
  const sink =
    options.sink === 'file'
      ? { type: 'file', path: options.filePath ?? 'envelopes.ndjson', envelope: envelopeFields() }
      : options.sink === 'adobe-streaming'
        ? {
            type: 'adobe-streaming',
            dcsUrl: endpoints.dcsUrl,
            inletId: localDefaults.inletId,
            maxBatchBytes: MAX_BATCH_BYTES,
            maxBatchEvents: MAX_BATCH_EVENTS,
            concurrency: { max: options.concurrency },
            ...envelopeFields(),
          }
        : {
            // Batch files carry bare XDM entities: no DCS header, so no flowId.
            type: 'adobe-batch',
            stagingDir: `${options.statePath}.staging`,
            eventTypes: envelopeFields().eventTypes,
          };
  return buildConfig(
    {
      state: options.statePath,
      sources: options.inputs.map((input) => ({ type: input.source, files: [input.path] })),
      adobe: {
        imsUrl: endpoints.imsTokenUrl,
        clientId: localDefaults.clientId,
        clientSecretEnv: SECRET_ENV,
        orgId: localDefaults.imsOrgId,
        sandbox: localDefaults.sandboxName,
        platformUrl: endpoints.platformUrl,
      },
      sink,
    },
    { baseDir: process.cwd() },
  );
}
