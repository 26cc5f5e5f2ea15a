import { describe, expect, it } from 'vitest';
import {
  instanceToFull,
  instanceToShort,
  nestedName,
  resolveSchema,
  rootPath,
  shortSchema,
  type JsonSchema,
} from '../../src/validate/short-form.js';
import { createValidator, loadDefaultSchema } from '../../src/validate/index.js';
import { fixtureEvent } from './fixtures.js';

const X = 'https://ns.adobe.com/experience/acmeGroup';
const CTX = 'https://ns.adobe.com/xdm/common/extensible#/definitions/@context';

/** A tiny class + field group in the repository's full form. */
function registry(): Map<string, JsonSchema> {
  const cls: JsonSchema = {
    $id: 'urn:test:class',
    type: 'object',
    definitions: { base: { properties: { '@id': { type: 'string', format: 'uri-reference' }, 'xdm:timestamp': { type: 'string' } } } },
    required: ['@id'],
    allOf: [{ $ref: CTX }, { $ref: '#/definitions/base' }],
    'meta:license': ['not kept'],
  };
  const group: JsonSchema = {
    $id: 'urn:test:group',
    definitions: {
      g: {
        properties: {
          [`${X}/thing`]: {
            type: 'object',
            properties: {
              [`${X}/thing/code`]: { type: 'string', 'meta:enum': { a: 'A' } },
              'xdm:count': { type: 'integer' },
              '@type': { type: 'string' },
            },
            required: [`${X}/thing/code`],
          },
          'xdm:tags': { type: 'object', 'meta:xdmType': 'map', additionalProperties: { type: 'string' } },
        },
        required: [`${X}/thing`],
      },
    },
    allOf: [{ $ref: CTX }, { $ref: '#/definitions/g' }],
  };
  return new Map([
    ['urn:test:class', cls],
    ['urn:test:group', group],
  ]);
}

describe('short-form naming', () => {
  it('maps root keys to AEP paths', () => {
    expect(rootPath('@id')).toEqual(['_id']);
    expect(rootPath('xdm:timestamp')).toEqual(['timestamp']);
    expect(rootPath('https://ns.adobe.com/experience/customerJourneyManagement/messageDeliveryfeedback')).toEqual([
      '_experience',
      'customerJourneyManagement',
      'messageDeliveryfeedback',
    ]);
    expect(rootPath('https://ns.adobe.com/xdm/channels/application')).toEqual(['_channels', 'application']);
    expect(rootPath('plain')).toEqual(['plain']);
  });

  it('keeps only the local name below the root', () => {
    expect(nestedName('https://ns.adobe.com/experience/customerJourneyManagement/messageDeliveryfeedback/reason')).toBe('reason');
    expect(nestedName('@type')).toBe('_type');
    expect(nestedName('xdm:offerID')).toBe('offerID');
    expect(nestedName('Email')).toBe('Email');
  });
});

describe('shortSchema', () => {
  it('inlines $refs, flattens allOf, nests URI keys under namespace objects and keeps required', () => {
    const s = shortSchema(registry(), ['urn:test:class', 'urn:test:group'], 'urn:test:short');
    expect(s).toEqual({
      $id: 'urn:test:short',
      type: 'object',
      additionalProperties: false,
      required: ['_id', '_experience'],
      properties: {
        _id: { type: 'string', format: 'uri-reference', 'meta:xdmField': '@id' },
        timestamp: { type: 'string', 'meta:xdmField': 'xdm:timestamp' },
        tags: {
          type: 'object',
          'meta:xdmType': 'map',
          additionalProperties: { type: 'string' },
          'meta:xdmField': 'xdm:tags',
        },
        _experience: {
          type: 'object',
          'meta:xedConverted': true,
          additionalProperties: false,
          required: ['acmeGroup'],
          properties: {
            acmeGroup: {
              type: 'object',
              'meta:xedConverted': true,
              additionalProperties: false,
              required: ['thing'],
              properties: {
                thing: {
                  type: 'object',
                  additionalProperties: false,
                  required: ['code'],
                  'meta:xdmField': `${X}/thing`,
                  properties: {
                    code: { type: 'string', 'meta:enum': { a: 'A' }, 'meta:xdmField': `${X}/thing/code` },
                    count: { type: 'integer', 'meta:xdmField': 'xdm:count' },
                    _type: { type: 'string', 'meta:xdmField': '@type' },
                  },
                },
              },
            },
          },
        },
      },
    });
  });

  it('leaves objects open when not closed', () => {
    const s = shortSchema(registry(), ['urn:test:class', 'urn:test:group'], 'urn:test:open', false);
    expect(JSON.stringify(s)).not.toContain('"additionalProperties":false');
  });

  it('refuses two full keys that collapse onto one short name', () => {
    const byId = registry();
    const group = byId.get('urn:test:group') as JsonSchema & { definitions: Record<string, JsonSchema> };
    const props = group.definitions['g']?.properties as Record<string, JsonSchema>;
    const thing = props[`${X}/thing`] as JsonSchema & { properties: Record<string, JsonSchema> };
    thing.properties['https://ns.adobe.com/other/code'] = { type: 'string' };
    expect(() => shortSchema(byId, ['urn:test:group'], 'urn:x')).toThrow('short-name collision: code');
  });

  it('names a $ref it cannot resolve', () => {
    expect(() => resolveSchema({ $ref: 'urn:missing#/definitions/x' }, null, new Map())).toThrow('unresolved $ref urn:missing#/definitions/x');
    expect(() => resolveSchema({ $ref: '#/definitions/nope' }, {}, new Map())).toThrow('unresolvable JSON pointer #/definitions/nope');
  });
});

describe('instance conversion with the generated schema', () => {
  const schema = loadDefaultSchema() as JsonSchema;

  it('turns the realistic short events into the full form and back unchanged', () => {
    for (const name of ['email-hard-bounce', 'sms-delay'] as const) {
      const event = fixtureEvent(name);
      const full = instanceToFull(event, schema) as Record<string, unknown>;
      expect(full['@id']).toBe(event._id);
      expect(full['xdm:timestamp']).toBe(event.timestamp);
      // the CJM groups define flat root keys: the namespace objects (_experience, messageDeliveryfeedback…) vanish
      expect(full['https://ns.adobe.com/experience/customerJourneyManagement/messageDeliveryfeedback/feedbackStatus']).toBe(
        (event as any)._experience.customerJourneyManagement.messageDeliveryfeedback.feedbackStatus,
      );
      expect(full['_experience']).toBeUndefined();
      expect(Object.keys(full['xdm:identityMap'] as object)).toEqual(Object.keys(event['identityMap'] as object)); // map keys stay
      expect(instanceToShort(full, schema)).toEqual(event);
    }
  });

  it('converts a full-form fragment that a closed short schema then judges', () => {
    const short = instanceToShort(
      {
        '@id': 'b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e',
        'xdm:timestamp': '2026-08-20T10:00:00Z',
        'https://ns.adobe.com/experience/customerJourneyManagement/messageExecution/messageExecutionID': 'UMA-9',
        'https://ns.adobe.com/experience/customerJourneyManagement/messageProfile/channel': { '@id': 'https://ns.adobe.com/xdm/channels/sms' },
        'https://ns.adobe.com/experience/customerJourneyManagement/messageDeliveryfeedback/feedbackStatus': 'delivered',
        'https://ns.adobe.com/experience/customerJourneyManagement/messageDeliveryfeedback/colour': 'red',
      },
      schema,
    ) as Record<string, any>;
    expect(short['_experience'].customerJourneyManagement.messageDeliveryfeedback).toEqual({ feedbackStatus: 'delivered', colour: 'red' });
    expect(createValidator({ schema }).validate(short as never)).toEqual([
      '/_experience/customerJourneyManagement/messageDeliveryfeedback/colour: is not a field of the schema (misspelt or undefined key)',
    ]);
  });
});
