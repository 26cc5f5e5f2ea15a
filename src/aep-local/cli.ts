/** `xdm-feedback aep-local`: runs the local AEP imitation in the foreground and prints what to configure. */
import { Option, type Command } from 'commander';
import { ConfigError, ExitCode } from '../errors.js';
import { localDefaults } from './defaults.js';
import { startAepLocal } from './index.js';
import type { AepLocal, AepLocalOptions, FaultPlan } from './types.js';

/** The port `aep-local` listens on when `--port` is not given (the library default is an ephemeral port). */
export const AEP_LOCAL_DEFAULT_PORT = 7474;

interface CliOptions {
  port: string;
  fault429?: string;
  fault5xx?: string;
  faultReset?: string;
  slowMs?: string;
  slowShare?: string;
  maxRequestBytes?: string;
  tokenTtlSeconds?: string;
  rejectShare?: string;
  script?: string;
  retryAfterSeconds?: string;
  batchDelayMs?: string;
  seed?: string;
  json?: boolean;
}

function number(flag: string, value: string | undefined, check: (n: number) => boolean, expected: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new ConfigError(`${flag} ${value}: give ${expected}`);
  return n;
}

const share = (flag: string, value: string | undefined) => number(flag, value, (n) => n >= 0 && n <= 1, 'a share between 0 and 1, e.g. 0.1');
const count = (flag: string, value: string | undefined) => number(flag, value, (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0');

/** Turns the command-line flags into start options; bad values throw a ConfigError naming the flag. */
export function optionsFromFlags(flags: CliOptions): AepLocalOptions {
  const port = number('--port', flags.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'a port from 0 to 65535');
  const plan: FaultPlan = {};
  const set = <K extends keyof FaultPlan>(key: K, value: FaultPlan[K] | undefined) => {
    if (value !== undefined) plan[key] = value;
  };
  set('share429', share('--fault-429', flags.fault429));
  set('share5xx', share('--fault-5xx', flags.fault5xx));
  set('shareReset', share('--fault-reset', flags.faultReset));
  set('slowMs', count('--slow-ms', flags.slowMs));
  set('slowShare', share('--slow-share', flags.slowShare));
  set('rejectShare', share('--reject-share', flags.rejectShare));
  set('retryAfterSeconds', count('--retry-after-seconds', flags.retryAfterSeconds));
  if (flags.script !== undefined) plan.script = flags.script.split(',').map((s) => s.trim()).filter(Boolean);
  const maxRequestBytes = number('--max-request-bytes', flags.maxRequestBytes, (n) => Number.isInteger(n) && n > 0, 'a whole number of bytes > 0');
  const tokenTtlSeconds = number('--token-ttl-seconds', flags.tokenTtlSeconds, (n) => Number.isInteger(n) && n > 0, 'a whole number of seconds > 0');
  const batchDelay = count('--batch-delay-ms', flags.batchDelayMs);
  const seed = count('--seed', flags.seed);
  return {
    port: port ?? AEP_LOCAL_DEFAULT_PORT,
    faults: plan,
    ...(maxRequestBytes !== undefined ? { maxRequestBytes } : {}),
    ...(tokenTtlSeconds !== undefined ? { tokenTtlSeconds } : {}),
    ...(batchDelay !== undefined ? { batchProcessingDelayMs: batchDelay } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
}

/** What a user needs to point the connector (or curl) at the imitation. */
export function describeLocal(local: AepLocal, options: AepLocalOptions): Record<string, unknown> {
  return {
    url: local.url,
    imsTokenUrl: local.endpoints.imsTokenUrl,
    dcsBatchUrl: local.endpoints.dcsBatchUrl,
    platformUrl: local.endpoints.platformUrl,
    clientId: local.credentials.clientId,
    clientSecret: local.credentials.clientSecret,
    imsOrgId: local.credentials.imsOrgId,
    sandboxName: local.credentials.sandboxName,
    scopes: local.credentials.scopes.join(','),
    inletId: local.inletId,
    flowId: local.flowId,
    datasets: local.datasets.map((d) => ({ id: d.id, name: d.name, schemaRef: d.schemaRef })),
    faults: options.faults ?? {},
  };
}

function human(description: Record<string, unknown>): string {
  const datasets = description['datasets'] as Array<{ id: string; name?: string; schemaRef: { id: string; contentType: string } }>;
  const lines = [
    `aep-local listening on ${String(description['url'])} (loopback only; Ctrl-C stops it)`,
    '',
    `  IMS token URL     ${String(description['imsTokenUrl'])}`,
    `  DCS batch URL     ${String(description['dcsBatchUrl'])}`,
    `  platform URL      ${String(description['platformUrl'])}  (import, catalog, export, schemaregistry under /data/foundation)`,
    `  client id         ${String(description['clientId'])}   (also the x-api-key)`,
    `  client secret     ${String(description['clientSecret'])}   (a public local constant, not a secret)`,
    `  IMS org           ${String(description['imsOrgId'])}`,
    `  sandbox           ${String(description['sandboxName'])}`,
    `  scopes            ${String(description['scopes'])}`,
    `  inlet id          ${String(description['inletId'])}`,
    `  flow id           ${String(description['flowId'])}`,
    ...datasets.map((d) => `  dataset           ${d.id}  ${d.name ?? ''}`),
    `  schemaRef         ${datasets[0]?.schemaRef.id ?? ''}  (${datasets[0]?.schemaRef.contentType ?? ''})`,
    '',
    `  inspect           GET ${String(description['url'])}/__local/events?datasetId=…   GET ${String(description['url'])}/__local/stats`,
    `  faults            POST ${String(description['url'])}/__local/faults  {"script":["429:1","503","ok"],"share5xx":0.1}`,
  ];
  const faults = description['faults'] as Record<string, unknown>;
  if (Object.keys(faults).length > 0) lines.push(`  faults in force   ${JSON.stringify(faults)}`);
  return lines.join('\n');
}

/** Adds `aep-local` to the program. */
export function registerAepLocalCommand(program: Command): void {
  program
    .command('aep-local')
    .description('Run a local imitation of the Adobe endpoints the connector uses (IMS, DCS streaming, batch ingestion, Catalog, Data Access, Schema Registry), with fault injection.')
    .option('--port <n>', 'TCP port on 127.0.0.1 (0 = any free port)', String(AEP_LOCAL_DEFAULT_PORT))
    .addOption(new Option('--fault-429 <share>', 'share (0..1) of requests answered 429 Too Many Requests with Retry-After'))
    .addOption(new Option('--fault-5xx <share>', 'share (0..1) of requests answered 500, 502, 503 or 504'))
    .addOption(new Option('--fault-reset <share>', 'share (0..1) of connections destroyed without an answer'))
    .option('--slow-ms <n>', 'delay added to slow answers, in milliseconds')
    .option('--slow-share <share>', 'share (0..1) of answers delayed by --slow-ms (default: all of them)')
    .option('--max-request-bytes <n>', `DCS request size above which it answers 413 (default ${localDefaults.maxRequestBytes})`)
    .option('--token-ttl-seconds <n>', `lifetime of IMS tokens, also sent as expires_in (default ${localDefaults.tokenTtlSeconds})`)
    .option('--reject-share <share>', 'share (0..1) of valid streamed messages rejected one by one (400 in the 207)')
    .option('--script <steps>', 'comma-separated scripted answers consumed first, e.g. "429:2,503,reset,ok"')
    .option('--retry-after-seconds <n>', 'Retry-After sent with 429 and 503 (default 1)')
    .option('--batch-delay-ms <n>', 'time a completed batch takes to process (default 100)')
    .option('--seed <n>', 'seed of the fault generator, for reproducible runs (default 1)')
    .option('--json', 'print the configuration as one JSON object')
    .addHelpText(
      'after',
      `
Everything is served on one port, routed by path like Adobe's hosts:
  POST /ims/token/v3                                   IMS (ims-na1.adobelogin.com)
  POST /collection/{inletId}, /collection/batch/{inletId}   DCS (dcs.adobedc.net)
  /data/foundation/{import,catalog,export,schemaregistry}/… platform.adobe.io
Events are validated against the committed XDM schema like AEP does; accepted ones are kept in memory.

Examples:
  xdm-feedback aep-local
  xdm-feedback aep-local --port 0 --fault-429 0.1 --fault-5xx 0.05 --seed 7
  xdm-feedback aep-local --script "429:1,503,reset" --token-ttl-seconds 60 --json`,
    )
    .action(async (_opts, command: Command) => {
      const flags = command.optsWithGlobals() as CliOptions;
      let options: AepLocalOptions;
      let local: AepLocal;
      try {
        options = optionsFromFlags(flags);
        local = await startAepLocal(options);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`xdm-feedback aep-local: ${message}\n`);
        process.exitCode = error instanceof ConfigError || /fault (plan|script)/.test(message) ? ExitCode.badConfig : ExitCode.fatal;
        return;
      }
      const description = describeLocal(local, options);
      process.stdout.write(flags.json ? JSON.stringify(description) + '\n' : human(description) + '\n');
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      const stats = local.stats();
      await local.close();
      if (flags.json) process.stdout.write(JSON.stringify({ stopped: true, stats }) + '\n');
      else process.stdout.write(`\naep-local stopped: ${stats.accepted} events accepted (${stats.duplicates} repeated _id), ${stats.messages.rejected} messages rejected, ${stats.batches.created} batches.\n`);
    });
}
