/** Data Access: the failed records of a batch, listed (`/batches/{id}/failed`) and downloaded (`?path=`). */
import type { Batch, BatchService } from './batches.js';
import { json, type Answer } from './http.js';
import { problem } from './gateway.js';

/** `GET /data/foundation/export/batches/{id}/failed[?path=]`. */
export function handleFailed(
  batches: BatchService,
  batch: Batch | undefined,
  id: string,
  path: string | null,
  baseUrl: string,
): Answer {
  if (!batch) return problem(404, 'Not Found', `Batch ${id} not found`);
  const hasFailures = batch.failed.length > 0;
  if (path !== null) {
    if (!hasFailures || path !== batch.failedFileName) return problem(404, 'Not Found', `No failed file ${path} in batch ${id}`);
    return { status: 200, raw: { bytes: batches.failedFile(batch), contentType: 'application/octet-stream' } };
  }
  const self = `${baseUrl}/data/foundation/export/batches/${encodeURIComponent(id)}/failed`;
  const data = hasFailures
    ? [
        {
          name: batch.failedFileName,
          length: String(Buffer.byteLength(batches.failedFile(batch))),
          _links: { self: { href: `${self}?path=${encodeURIComponent(batch.failedFileName)}` } },
        },
      ]
    : [];
  return json(200, { data, _page: { limit: 100, count: data.length } });
}
