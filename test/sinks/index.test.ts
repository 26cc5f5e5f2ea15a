import AjvModule from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { createSink, dryRunSinkConfig, sinkConfigSchemas, type SinkConfig } from '../../src/sinks/index.js';
import { dcsBase } from '../../src/sinks/adobe-streaming/config.js';

const Ajv = AjvModule.default ?? AjvModule;
const addFormats = addFormatsModule.default ?? addFormatsModule;

function validator() {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  addFormats(ajv);
  return ajv;
}

describe('sink registry', () => {
  it('fills the documented defaults of the adobe-streaming section', () => {
    const config: Record<string, unknown> = { type: 'adobe-streaming', inletId: 'abc', datasetId: 'ds', schemaRef: 'https://ns.adobe.com/t/schemas/1', concurrency: {} };
    expect(validator().validate(sinkConfigSchemas['adobe-streaming'], config)).toBe(true);
    expect(config).toMatchObject({
      dcsUrl: 'https://dcs.adobedc.net',
      authenticated: true,
      maxBatchEvents: 500,
      maxBatchBytes: 900_000,
      retryDeadlineMs: 600_000,
      sourceName: 'xdm-feedback',
      concurrency: { min: 1, max: 8, initial: 2 },
    });
  });

  it('describes every option of every sink', () => {
    for (const schema of Object.values(sinkConfigSchemas)) {
      for (const [key, prop] of Object.entries(schema.properties)) {
        if (key === 'type') continue;
        expect((prop as { description?: string }).description, key).toBeTruthy();
      }
    }
  });

  it('refuses unknown keys and a request cap above 1 MB', () => {
    const ajv = validator();
    expect(ajv.validate(sinkConfigSchemas['adobe-streaming'], { type: 'adobe-streaming', inletId: 'a', datasetid: 'x' })).toBe(false);
    expect(ajv.validate(sinkConfigSchemas['adobe-streaming'], { type: 'adobe-streaming', inletId: 'a', maxBatchBytes: 2_000_000 })).toBe(false);
    expect(ajv.validate(sinkConfigSchemas.file, { type: 'file' })).toBe(false);
  });

  it('creates each sink by type', async () => {
    const auth = { clientId: 'c', clientSecret: 'secret-value-2', orgId: 'O@AdobeOrg', sandbox: 'prod', scopes: 'openid,AdobeID' };
    const configs: SinkConfig[] = [
      { type: 'file', path: '/tmp/never-written.ndjson' },
      { type: 'adobe-streaming', inletId: 'abc', datasetId: 'ds', schemaRef: 's' },
    ];
    for (const config of configs) {
      const sink = createSink(config, { log: silentLogger, auth });
      expect(sink.name).toBe(config.type);
      await sink.close();
    }
  });

  it('reports a half-configured default target as a ConfigError', () => {
    expect(() => createSink({ type: 'adobe-streaming', inletId: 'a', datasetId: 'ds' }, { log: silentLogger, auth: { clientId: 'c', clientSecret: 'secret-value-3', orgId: 'O@AdobeOrg' } })).toThrow(ConfigError);
  });

  it('accepts the DCS base URL or the full inlet URL Adobe shows', () => {
    expect(dcsBase('https://dcs.adobedc.net')).toBe('https://dcs.adobedc.net');
    expect(dcsBase('https://dcs.adobedc.net/')).toBe('https://dcs.adobedc.net');
    expect(dcsBase('https://dcs.adobedc.net/collection/abc123')).toBe('https://dcs.adobedc.net');
    expect(dcsBase('https://dcs-stg.adobedc.net/collection/batch/abc123?syncValidation=true')).toBe('https://dcs-stg.adobedc.net');
    expect(dcsBase('http://127.0.0.1:4000/proxy/collection/abc')).toBe('http://127.0.0.1:4000/proxy');
  });

  it('derives the dry-run file sink from the configured streaming sink', () => {
    expect(dryRunSinkConfig('/x.ndjson', { type: 'adobe-streaming', inletId: 'a', datasetId: 'ds', schemaRef: 's', flowId: 'f' })).toEqual({
      type: 'file',
      path: '/x.ndjson',
      envelope: { datasetId: 'ds', schemaRef: 's', flowId: 'f' },
    });
  });
});
