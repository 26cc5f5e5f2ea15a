/** `xdm-feedback schema pull`: fetch the tenant's dataset schema from AEP, cache it and show what differs from the bundled one. */
import type { Command } from 'commander';
import { pullSchemas, renderPull } from '../../schema-pull/index.js';
import { globalOptions, loadConfig, loggerFor, print, runAction } from '../context.js';

export function registerSchemaCommand(program: Command): void {
  const schema = program.command('schema').description('Work with the tenant\'s XDM schema in AEP.');
  schema
    .command('pull')
    .description('Fetch the dataset schema from the Schema Registry, cache it for validation and show what differs from the bundled schema.')
    .option('--dataset <id>', 'the dataset whose schema to pull (looked up in Catalog)')
    .option('--schema <id>', 'the schema to pull: its meta:altId (_tenant.schemas.…) or its $id URL')
    .option('--out <path>', 'where to write the converted schema (default: the configured tenantSchema, else xdm-schemas/tenant/<altId>.json)')
    .addHelpText(
      'after',
      `
Without --dataset or --schema, the schemas named by the sink's schemaRef (and eventTypes[*].schemaRef) are pulled.
The schema is fetched resolved (Accept: application/vnd.adobe.xed-full+json; version=1), converted to the short form
events are sent in, and cached. Point tenantSchema in the config at the cached file: runs then validate against it,
and send deliveries as "sent" when its feedbackStatus enum lacks "delivered".

Examples:
  xdm-feedback schema pull
  xdm-feedback schema pull --dataset 66a1f0c2b3d4e5f60718293a --json
  xdm-feedback schema pull --schema _acme.schemas.5e5a3ba4c1f0b2a7d9e81c3f4a6b7d20 --out xdm-schemas/tenant/acme.json`,
    )
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const local = command.opts() as { dataset?: string; schema?: string; out?: string };
      await runAction(options, async () => {
        const config = loadConfig(options);
        const result = await pullSchemas(config, {
          log: loggerFor(options),
          ...(local.dataset ? { datasetId: local.dataset } : {}),
          ...(local.schema ? { schemaId: local.schema } : {}),
          ...(local.out ? { out: local.out } : {}),
        });
        print(options, () => renderPull(result), () => result);
      });
    });
}
