/** The generic `ndjson` source: any JSON-lines feed, mapped by a user-written mapping file. */
import type { Source } from '../../core/types.js';
import type { NdjsonSourceConfig } from '../config.js';
import { createJsonLinesSource } from '../shared/json-lines-source.js';

/** Builds an ndjson source named after the platform (`config.name`). */
export function createNdjsonSource(config: NdjsonSourceConfig, baseDir: string): Source {
  return createJsonLinesSource({ name: config.name, files: config.files, baseDir, maxLineBytes: config.maxLineBytes });
}
