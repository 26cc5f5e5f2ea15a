/** Checks one DCS XDM envelope (header, body, schemaRef agreement, org, dataset, flow) before its XDM is validated. */
import { isObject } from './http.js';
import type { DatasetConfig, InletConfig } from './types.js';

/** What a valid envelope yields. */
export interface OpenedEnvelope {
  ok: true;
  datasetId: string;
  entity: Record<string, unknown>;
}

/** Why an envelope is refused: DCS's message (without the `inletId: [..] imsOrgId: [..]` prefix). */
export interface RefusedEnvelope {
  ok: false;
  message: string;
}

export interface EnvelopeContext {
  inlet: InletConfig;
  imsOrgId: string;
  datasets: ReadonlyMap<string, DatasetConfig>;
}

const UNKNOWN_FORMAT = 'Message has unknown xdm format';

/** contentType values seen in Adobe's docs: xed(-full)(-notext)+json with version 1 or 1.0. */
const SCHEMA_CONTENT_TYPE = /^application\/vnd\.adobe\.xed(-full)?(-notext)?\+json\s*;\s*version=1(\.0)?$/i;

function missing(field: string): RefusedEnvelope {
  return { ok: false, message: `The '${field}' field is mandatory.` };
}

function schemaRefOf(value: unknown): { id: string; contentType: string } | undefined {
  if (!isObject(value)) return undefined;
  const { id, contentType } = value;
  return typeof id === 'string' && id && typeof contentType === 'string' && contentType ? { id, contentType } : undefined;
}

/** The org id a message names (for the error prefix), falling back to the inlet's. */
export function messageOrg(message: unknown, fallback: string): string {
  if (isObject(message) && isObject(message['header']) && typeof message['header']['imsOrgId'] === 'string') {
    return message['header']['imsOrgId'];
  }
  return fallback;
}

/** Checks an envelope as DCS does; the XDM inside `xdmEntity` is validated afterwards. */
export function openEnvelope(message: unknown, ctx: EnvelopeContext): OpenedEnvelope | RefusedEnvelope {
  if (!isObject(message)) return { ok: false, message: UNKNOWN_FORMAT };
  const head = message['header'];
  if (!isObject(head)) return missing('header');
  const body = message['body'];
  if (!isObject(body)) return missing('body');
  const headerRef = schemaRefOf(head['schemaRef']);
  if (!headerRef) return missing('header.schemaRef');
  for (const field of ['imsOrgId', 'datasetId', 'flowId'] as const) {
    if (typeof head[field] !== 'string' || head[field] === '') return missing(`header.${field}`);
  }
  const datasetId = head['datasetId'] as string;
  if (head['imsOrgId'] !== ctx.imsOrgId) return { ok: false, message: 'Message has an absent or wrong ims org in the header' };
  if (ctx.inlet.flowId !== undefined && head['flowId'] !== ctx.inlet.flowId) {
    return { ok: false, message: `Message has an unknown flowId [${String(head['flowId'])}] for this inlet` };
  }
  const dataset = ctx.datasets.get(datasetId);
  if (!dataset) return { ok: false, message: `Message has an unknown datasetId [${datasetId}]` };
  const meta = body['xdmMeta'];
  const bodyRef = isObject(meta) ? schemaRefOf(meta['schemaRef']) : undefined;
  if (!bodyRef) return missing('body.xdmMeta.schemaRef');
  // xdmMeta.schemaRef must equal the header's and the dataset's schema (the OpenAPI file does not check this).
  if (
    bodyRef.id !== headerRef.id ||
    bodyRef.contentType !== headerRef.contentType ||
    headerRef.id !== dataset.schemaRef.id ||
    !SCHEMA_CONTENT_TYPE.test(headerRef.contentType)
  ) {
    return { ok: false, message: UNKNOWN_FORMAT };
  }
  const entity = body['xdmEntity'];
  if (!isObject(entity)) return { ok: false, message: UNKNOWN_FORMAT };
  return { ok: true, datasetId, entity };
}
