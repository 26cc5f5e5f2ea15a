/** Catalog: `GET /data/foundation/catalog/batches/{id}` and `…/dataSets/{id}` answer an object keyed by the id. */
import type { Batch } from './batches.js';
import type { DatasetConfig } from './types.js';
import { json, type Answer } from './http.js';
import { problem } from './gateway.js';

/** The batch as Catalog (and the create-batch answer) show it. */
export function catalogView(batch: Batch, imsOrg: string, clientId: string): Record<string, unknown> {
  const done = batch.metrics !== undefined;
  return {
    id: batch.id,
    externalId: batch.externalId,
    imsOrg,
    status: batch.status,
    created: batch.created,
    createdClient: clientId,
    createdUser: `${clientId}@AdobeID`,
    updated: batch.updated,
    updatedUser: `${clientId}@AdobeID`,
    ...(batch.started !== undefined ? { started: batch.started } : {}),
    ...(batch.completed !== undefined ? { completed: batch.completed } : {}),
    inputFormat: { format: 'json', ...(batch.isMultiLineJson ? { isMultiLineJson: true } : {}) },
    relatedObjects: [{ type: 'dataSet', id: batch.datasetId }],
    tags: batch.tags,
    version: batch.version,
    ...(done
      ? {
          metrics: batch.metrics,
          recordCount: batch.metrics!['inputRecordCount'],
          failedRecordCount: batch.metrics!['failedRecordCount'],
        }
      : {}),
    ...(batch.errors.length > 0 ? { errors: batch.errors } : {}),
  };
}

export function handleCatalogBatch(batch: Batch | undefined, id: string, imsOrg: string, clientId: string): Answer {
  if (!batch) return problem(404, 'Not Found', `Batch ${id} not found`);
  return json(200, { [batch.id]: catalogView(batch, imsOrg, clientId) });
}

/** A configured dataset as Catalog shows it (what `schema pull --dataset` reads: its `schemaRef`). */
export function handleCatalogDataset(dataset: DatasetConfig | undefined, id: string, imsOrg: string): Answer {
  if (!dataset) return problem(404, 'Not Found', `Dataset ${id} not found`);
  return json(200, {
    [dataset.id]: {
      name: dataset.name ?? dataset.id,
      imsOrg,
      schemaRef: dataset.schemaRef,
      tags: {},
      version: '1.0.0',
    },
  });
}
