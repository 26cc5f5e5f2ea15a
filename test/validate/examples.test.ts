/**
 * Adobe's example data (xdm-schemas/source/**\/*example*.json, full form) converted to the short form with our
 * converter and validated against the generated schema. Field-group examples are fragments, so each is laid over a
 * minimal envelope holding only what *other* groups require (_id, timestamp, messageExecutionID, messageProfile.channel);
 * data-type examples are placed where our event carries that data type. Examples that legitimately fail do so only
 * because they use keys our closed schema does not define; each such key is listed with the reason.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { XdmEvent } from '../../src/core/types.js';
import { createValidator, loadDefaultSchema } from '../../src/validate/index.js';
import { instanceToFull, instanceToShort, type JsonSchema } from '../../src/validate/short-form.js';
import { SOURCE_DIR } from './fixtures.js';

const schema = loadDefaultSchema() as JsonSchema;
const validator = createValidator({ schema });
const CJM = ['_experience', 'customerJourneyManagement'];
const P = '/_experience/customerJourneyManagement';
const UNKNOWN = ': is not a field of the schema (misspelt or undefined key)';

type Obj = Record<string, unknown>;

/** The short-form schema at a path of short keys (array indices and map keys as `*`). */
function schemaAt(path: readonly string[]): JsonSchema {
  let node: JsonSchema = schema;
  for (const key of path) {
    const next = key === '*' ? (node.items ?? (node.additionalProperties as JsonSchema)) : node.properties?.[key];
    if (!next || typeof next !== 'object') throw new Error(`no schema at ${path.join('.')}`);
    node = next;
  }
  return node;
}

/** Puts `value` at `path` inside a new object. */
function nest(path: readonly string[], value: unknown): Obj {
  return path.reduceRight<Obj>((inner, key) => ({ [key]: inner }), value as Obj);
}

function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] =
      b && typeof b === 'object' && !Array.isArray(b) && v && typeof v === 'object' && !Array.isArray(v)
        ? deepMerge(b as Obj, v as Obj)
        : v;
  }
  return out;
}

/** What the composition requires beyond a field group's own fields. */
const ENVELOPE: Obj = {
  _id: '5b0e6c1a-2f3d-4e5a-8b7c-9d0e1f2a3b4c',
  timestamp: '2026-08-20T12:00:00Z',
  eventType: 'message.feedback',
  ...nest(CJM, {
    messageExecution: { messageExecutionID: 'UMA-1' },
    messageProfile: { channel: { _id: 'https://ns.adobe.com/xdm/channels/email' } },
  }),
};

interface Case {
  /** Builds the short-form event from the parsed full-form example. */
  build: (full: unknown) => Obj;
  /** Undefined keys the example uses (short-form JSON pointers) and why; empty when it must validate. */
  unknown?: Record<string, string>;
}

/** A whole event, or a fragment of one laid over the envelope. */
const event: Case['build'] = (full) => deepMerge(ENVELOPE, instanceToShort(full, schema) as Obj);
/** A data-type example placed at `path` (`*` = array item or map value) inside the envelope. */
const at =
  (...path: string[]): Case['build'] =>
  (full) => {
    let built: unknown = instanceToShort(full, schemaAt(path), false);
    for (let i = path.length - 1; i >= 0; i--) {
      const key = path[i] ?? '';
      if (key !== '*') built = { [key]: built };
      else built = path[i - 1] === 'identityMap' ? { Email: built } : [built];
    }
    return deepMerge(ENVELOPE, built as Obj);
  };

const OTHER_GROUP = 'a root field of another field group (not part of our composition)';
const REPO_ASSET = 'repository asset metadata of the extensible base type: not ExperienceEvent data';

const CASES: Record<string, Case> = {
  'components/behaviors/time-series.example.1.json': { build: event },
  'components/classes/experienceevent.example.1.json': {
    build: event,
    unknown: Object.fromEntries(
      ['dataSource', 'channel', 'environment', 'productListItems', 'commerce', 'placeContext', 'web', 'marketing', 'profileStitch', 'segmentMemberships'].map(
        (k) => [`/${k}`, OTHER_GROUP],
      ),
    ),
  },
  'components/classes/experienceevent.example.2.json': {
    build: event,
    unknown: Object.fromEntries(['dataSource', 'environment', 'locationContext', 'web', 'device', 'advertising'].map((k) => [`/${k}`, OTHER_GROUP])),
  },
  'components/classes/experienceevent.example.3.json': {
    build: event,
    unknown: Object.fromEntries(
      ['dataSource', 'environment', 'placeContext', 'locationContext', 'web', 'device', 'advertising'].map((k) => [`/${k}`, OTHER_GROUP]),
    ),
  },
  'components/classes/experienceevent.example.4.json': {
    build: event,
    unknown: { '/environment': OTHER_GROUP, '/media': OTHER_GROUP },
  },
  'components/classes/experienceevent.example.5.json': {
    build: event,
    unknown: { '/environment': OTHER_GROUP, '/media': OTHER_GROUP, '/advertising': OTHER_GROUP },
  },
  'components/classes/experienceevent.example.6.json': {
    build: event,
    unknown: { '/environment': OTHER_GROUP, '/media': OTHER_GROUP },
  },
  'components/classes/experienceevent.example.7.json': {
    build: event,
    unknown: { '/pushNotificationTracking': 'field of the experienceevent-pushtracking group (not part of our composition)' },
  },
  'components/datatypes/channels/channel.example.1.json': {
    build: at(...CJM, 'messageProfile', 'channel'),
    unknown: { [`${P}/messageProfile/channel/metrics`]: 'xdm:metrics is not defined by the channel data type at this commit (it has metricTypes)' },
  },
  'components/datatypes/extensible.example.1.json': { build: event, unknown: {} },
  'components/datatypes/extensible.example.2.json': { build: event, unknown: {} },
  'components/datatypes/extensible.example.3.json': { build: event, unknown: {} },
  'components/datatypes/identityitem.example.1.json': { build: at('identityMap', '*', '*') },
  'components/fieldgroups/shared/identitymap.example.1.json': { build: at('identityMap') },
  'components/fieldgroups/shared/identitymap.example.2.json': { build: at('identityMap') },
  'extensions/adobe/experience/customerJourneyManagement/attachment.example.1.json': {
    build: at(...CJM, 'emailChannelContext', 'attachment', '*'),
  },
  'extensions/adobe/experience/customerJourneyManagement/attachment.example.2.json': {
    build: at(...CJM, 'emailChannelContext', 'attachment', '*'),
  },
  'extensions/adobe/experience/customerJourneyManagement/channel-context.schema.example.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/message-delivery-feedback.example.1.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/message-delivery-feedback.example.2.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/message-delivery-feedback.example.3.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/message-interaction.example.1.json': {
    build: event,
    unknown: { [`${P}/messageInteraction/messageInteraction`]: 'trackingType nested under a doubled messageInteraction key' },
  },
  'extensions/adobe/experience/customerJourneyManagement/message-interaction.example.2.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/message-interaction.example.3.json': {
    build: event,
    unknown: {
      [`${P}/messageInteraction/messageInteraction`]: 'trackingType/entityType nested under a doubled messageInteraction key',
      [`${P}/messageInteraction/landingpage/landingpageID`]: 'landingpageID is not defined by the landingpage object',
    },
  },
  'extensions/adobe/experience/customerJourneyManagement/message-interaction.example.4.json': {
    build: event,
    unknown: { [`${P}/messageInteraction/messageInteraction`]: 'trackingType nested under a doubled messageInteraction key' },
  },
  'extensions/adobe/experience/customerJourneyManagement/message-interaction.example.5.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/message-reply.schema.example.json': {
    build: at(...CJM, 'messageInteraction', 'messageReply'),
  },
  'extensions/adobe/experience/customerJourneyManagement/message-reply.schema.example.2.json': {
    build: at(...CJM, 'messageInteraction', 'messageReply'),
  },
  'extensions/adobe/experience/customerJourneyManagement/messageProfile.example.2.json': {
    build: event,
    unknown: { [`${P}/smsChannelContext/profilenNumber`]: 'misspelt profileNumber' },
  },
  'extensions/adobe/experience/customerJourneyManagement/messageProfile.example.3.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/messageProfile.example.4.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/messageProfile.example.5.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/messageProfile.example.6.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/messageexecution.example.1.json': {
    build: event,
    unknown: { [`${P}/messageExecution/messageLabel`]: 'messageLabel is not defined by the messageexecution group' },
  },
  'extensions/adobe/experience/customerJourneyManagement/messageprofile.example.1.json': { build: event },
  'extensions/adobe/experience/customerJourneyManagement/offers.schema.example.1.json': {
    build: at(...CJM, 'messageDeliveryfeedback', 'offers'),
  },
};

function exampleFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? exampleFiles(path) : /example.*\.json$/.test(name) ? [path] : [];
  });
}

describe("Adobe's example data, converted full → short", () => {
  it('covers every example file in xdm-schemas/source', () => {
    expect(Object.keys(CASES).sort()).toEqual(exampleFiles(SOURCE_DIR).map((p) => relative(SOURCE_DIR, p)).sort());
  });

  for (const [file, c] of Object.entries(CASES)) {
    const full: unknown = JSON.parse(readFileSync(join(SOURCE_DIR, file), 'utf8'));
    const short = c.build(full) as XdmEvent;
    const errors = validator.validate(short);
    if (!c.unknown) {
      it(`${file} validates`, () => {
        expect(errors).toBeNull();
      });
    } else {
      const reasons = Object.entries(c.unknown);
      it(`${file} fails only for keys outside our schema${reasons.length ? ` (${[...new Set(Object.values(c.unknown))].join('; ')})` : ` (${REPO_ASSET})`}`, () => {
        expect(errors).not.toBeNull();
        for (const line of errors ?? []) expect(line).toMatch(/: is not a field of the schema \(misspelt or undefined key\)$/);
        if (reasons.length) expect((errors ?? []).sort()).toEqual(reasons.map(([path]) => path + UNKNOWN).sort());
      });
    }
  }
});

describe('the instance converter', () => {
  it('round-trips every example that uses only defined keys short → full → short', () => {
    for (const [file, c] of Object.entries(CASES)) {
      if (c.unknown) continue; // undefined keys lose their URI in the short form: nothing to map them back with
      const full: unknown = JSON.parse(readFileSync(join(SOURCE_DIR, file), 'utf8'));
      const short = c.build(full);
      const back = instanceToFull(short, schema) as Obj;
      expect(Object.keys(back).some((k) => k.startsWith('https://ns.adobe.com/experience/')), file).toBe(true);
      expect(instanceToShort(back, schema), file).toEqual(short);
    }
  });
});
