/** Estimates how much input a run has left: file sources know their sizes and their checkpoints' byte offsets. */
import { statSync } from 'node:fs';
import type { ConfiguredSource } from '../config/load.js';
import type { Db } from '../store/db.js';
import { resolveFiles } from '../sources/shared/file-list.js';
import { configuredFilePatterns, parseFileOffset } from './status.js';

/** The input files of one configured source and their sizes, or undefined when the source is not file-based. */
export interface SourceFiles {
  sourceKey: string;
  files: Array<{ path: string; size: number }>;
}

export async function sourceFiles(sources: ConfiguredSource[], baseDir: string, keyOf: (id: string) => string): Promise<SourceFiles[] | undefined> {
  const out: SourceFiles[] = [];
  for (const source of sources) {
    const patterns = configuredFilePatterns(source);
    if (!patterns) return undefined;
    const paths = await resolveFiles(patterns, baseDir);
    out.push({
      sourceKey: keyOf(source.id),
      files: paths.map((path) => {
        try {
          return { path, size: statSync(path).size };
        } catch {
          return { path, size: 0 };
        }
      }),
    });
  }
  return out;
}

/** Total bytes of the files. */
export const totalBytes = (all: SourceFiles[]) => all.reduce((a, s) => a + s.files.reduce((b, f) => b + f.size, 0), 0);

/** Bytes already read according to the checkpoints (capped at each file's size). */
export function bytesRead(db: Db, all: SourceFiles[]): number {
  const get = db.prepare('SELECT position FROM checkpoints WHERE source = ? AND stream = ?');
  let done = 0;
  for (const s of all) {
    for (const f of s.files) {
      const row = get.get(s.sourceKey, f.path) as { position: string } | undefined;
      const at = row ? parseFileOffset(row.position) : undefined;
      if (at) done += Math.min(at.offset, f.size);
    }
  }
  return done;
}
