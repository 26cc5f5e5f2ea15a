/**
 * Dry runs on a scratch copy of the state file: they see the real ledger (so "already sent" is right) and history
 * (so retryCounts are right), but never move the real checkpoints or mark anything sent.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/load.js';
import { openDb } from '../store/db.js';

/** Runs `body` with a config whose state is a throwaway copy of the real one (removed afterwards). */
export async function withScratchState<T>(config: Config, body: (scratch: Config) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'xdm-feedback-dry-run-'));
  const path = join(dir, 'state.db');
  try {
    if (existsSync(config.state)) {
      const db = openDb(config.state, { readonly: true });
      try {
        await db.backup(path);
      } finally {
        db.close();
      }
    }
    return await body({ ...config, state: path });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
