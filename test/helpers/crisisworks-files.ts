/** Crisisworks CSV exports written to a temp folder, and a crisisworks source over one of them. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSource } from '../../src/sources/index.js';
import type { CrisisworksSourceConfig } from '../../src/sources/index.js';
import { tempDir } from './temp.js';

/** The header line of a Crisisworks delivery report. */
export const CRISISWORKS_HEADER = 'Delivery ID,Communication,Recipient,Delivery Type,Status,Response,Reason,Updated';

export function crisisworksFiles(prefix: string) {
  const dir = tempDir(prefix);
  let n = 0;
  return {
    dir,
    /** Writes an export and returns its path. */
    csv(content: string | Buffer): string {
      const path = join(dir, `report-${n++}.csv`);
      writeFileSync(path, content);
      return path;
    },
    source(path: string, extra: Partial<CrisisworksSourceConfig> = {}) {
      return createSource({ type: 'crisisworks', files: [path], ...extra }, { baseDir: dir });
    },
  };
}
