/** `xdm-feedback demo` (what `npm start` runs): the whole path on bundled samples, into the local AEP imitation. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { startAepLocal, localDefaults } from '../../aep-local/index.js';
import { buildConfig, packageRoot, type Config } from '../../config/load.js';
import { runConnector } from '../../core/run.js';
import { renderSummaries, table } from '../output.js';
import { globalOptions, loggerFor, print, runAction } from '../context.js';

const DEMO_SECRET_ENV = 'XDM_FEEDBACK_DEMO_CLIENT_SECRET';

/** The demo configuration: every bundled sample, the adobe-streaming sink pointed at the local imitation. */
export function demoConfig(endpoints: { imsTokenUrl: string; dcsUrl: string; platformUrl: string }, statePath: string): Config {
  process.env[DEMO_SECRET_ENV] = localDefaults.clientSecret;
  const data = (file: string) => resolve(packageRoot(), 'examples/data', file);
  return buildConfig(
    {
      state: statePath,
      sources: [
        { type: 'ovo-feedback', files: [data('ovo-feedback.ndjson')] },
        { type: 'ovo-v2', files: [data('ovo-v2.ndjson')] },
        { type: 'crisisworks', files: [data('crisisworks-report.csv')] },
        { type: 'masstack', files: [data('masstack-export.json')] },
      ],
      adobe: {
        imsUrl: endpoints.imsTokenUrl,
        clientId: localDefaults.clientId,
        clientSecretEnv: DEMO_SECRET_ENV,
        orgId: localDefaults.imsOrgId,
        sandbox: localDefaults.sandboxName,
        platformUrl: endpoints.platformUrl,
      },
      sink: {
        type: 'adobe-streaming',
        dcsUrl: endpoints.dcsUrl,
        inletId: localDefaults.inletId,
        flowId: localDefaults.flowId,
        eventTypes: {
          'message.feedback': { datasetId: localDefaults.datasets.feedback, schemaRef: localDefaults.schemaId },
          'message.tracking': { datasetId: localDefaults.datasets.tracking, schemaRef: localDefaults.schemaId },
        },
      },
    },
    { baseDir: process.cwd() },
  );
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'Sync the bundled samples of every platform into an in-process local AEP imitation, with state in SQLite, and print what happened. Run it twice: the second run sends nothing new.',
    )
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      await runAction(options, async () => {
        const aep = await startAepLocal();
        try {
          const config = demoConfig(aep.endpoints, resolve(options.state ?? '.xdm-feedback/state.db'));
          const log = loggerFor({ logLevel: options.logLevel ?? 'warn' });
          const result = await runConnector(config, { command: 'demo', log });
          await aep.settled();
          const byDataset: Record<string, number> = {};
          for (const { datasetId } of aep.accepted()) byDataset[datasetId] = (byDataset[datasetId] ?? 0) + 1;
          const datasetName = (id: string) =>
            id === localDefaults.datasets.feedback ? 'feedback' : id === localDefaults.datasets.tracking ? 'tracking' : id;
          print(
            options,
            () =>
              [
                `xdm-feedback demo — local AEP imitation at ${aep.url}, state in ${config.state}`,
                '',
                renderSummaries(result.summaries),
                '',
                aep.accepted().length > 0
                  ? table(['accepted by the local AEP (this run)', 'events'], Object.entries(byDataset).map(([id, n]) => [`${datasetName(id)} dataset ${id}`, n]))
                  : 'The local AEP received nothing new: every event was already in the ledger from an earlier run.',
                '',
                result.error
                  ? `error: ${result.error}`
                  : `A scheduled \`xdm-feedback sync\` would exit ${result.exitCode}` +
                    (result.exitCode === 3 ? ' (finished with dead letters: the malformed sample lines; see `xdm-feedback dlq list`).' : '.'),
              ].join('\n'),
            () => ({ ...result, accepted: aep.accepted().length, acceptedByDataset: byDataset }),
          );
          return result.error ? result.exitCode : 0;
        } finally {
          await aep.close();
        }
      });
    });
}
