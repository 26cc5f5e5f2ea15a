/** The configuration file's JSON Schema (top level); each source and sink contributes its own section schema. */

export const adobeAuthSchema = {
  type: 'object',
  description: 'Adobe IMS OAuth server-to-server credentials and the organisation/sandbox every call targets.',
  additionalProperties: false,
  required: ['clientId', 'orgId'],
  properties: {
    imsUrl: {
      type: 'string',
      description: 'IMS token endpoint.',
      default: 'https://ims-na1.adobelogin.com/ims/token/v3',
    },
    clientId: { type: 'string', minLength: 1, description: 'OAuth client id (also sent as x-api-key).' },
    clientSecretEnv: {
      type: 'string',
      description: 'Name of the environment variable holding the client secret.',
      default: 'ADOBE_CLIENT_SECRET',
    },
    clientSecretFile: { type: 'string', description: 'A file holding the client secret (instead of the environment).' },
    orgId: { type: 'string', pattern: '@AdobeOrg$', description: 'IMS organisation id, e.g. 1234ABCD@AdobeOrg.' },
    sandbox: { type: 'string', minLength: 1, description: 'Sandbox name (x-sandbox-name).', default: 'prod' },
    scopes: {
      type: 'string',
      description: 'Comma-separated OAuth scopes.',
      default: 'openid,AdobeID,read_organizations,additional_info.projectedProductContext,session',
    },
    platformUrl: {
      type: 'string',
      description: 'Base URL of the Platform APIs (batch ingestion, catalog, schema registry).',
      default: 'https://platform.adobe.io',
    },
  },
} as const;

export const topLevelSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['sources', 'sink'],
  properties: {
    $schema: { type: 'string' },
    state: { type: 'string', description: 'Path of the SQLite state file.', default: './.xdm-feedback/state.db' },
    mapping: {
      type: 'object',
      additionalProperties: false,
      description: 'Options every mapping gets.',
      properties: {
        identityNamespace: { type: 'string', minLength: 1, default: 'CRMID', description: 'Identity namespace of customer ids.' },
        deliveredAs: {
          enum: ['delivered', 'sent'],
          default: 'delivered',
          description: 'Use "sent" when the tenant schema lacks the "delivered" feedbackStatus.',
        },
        timezone: { type: 'string', default: 'UTC', description: 'Time zone of provider times that carry none.' },
      },
    },
    sources: {
      type: 'array',
      minItems: 1,
      description: 'The feeds to read; each has a `type` and that type’s settings.',
      items: {
        type: 'object',
        required: ['type'],
        properties: {
          type: { type: 'string' },
          id: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', description: 'Name of this feed in state and reports (default: its type).' },
          mapping: { type: 'string', description: 'Mapping file (default: mappings/<type>.json).' },
        },
      },
    },
    sink: {
      type: 'object',
      required: ['type'],
      properties: { type: { type: 'string' } },
      description: 'Where events go: file (dry run), adobe-streaming or adobe-batch.',
    },
    adobe: adobeAuthSchema,
    tenantSchema: { type: 'string', description: 'Short-form tenant schema cached by `schema pull`; validated against too.' },
    schedule: {
      type: 'object',
      additionalProperties: false,
      required: ['cron'],
      properties: {
        cron: { type: 'string', description: 'Cron expression for `schedule`, e.g. "*/15 * * * *".' },
        timezone: { type: 'string', description: 'IANA time zone of the cron expression.', default: 'UTC' },
      },
    },
    retentionDays: { type: 'integer', minimum: 1, description: 'Prune ledger, history and replayed dead letters older than this.' },
  },
} as const;
