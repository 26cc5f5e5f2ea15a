// Where `report --html` writes: a missing folder is created; a path that cannot be written is a ConfigError naming it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { writeReport } from '../../src/ops/report.js';
import { tempDir } from '../helpers/temp.js';
import { seedState } from './seed.js';

const dir = tempDir('xdmf-report-path-');

describe('report output path', () => {
  it('creates the folders of the output path', () => {
    const { db } = seedState(dir);
    const path = join(dir, 'reports', '2024', 'march.html');
    const data = writeReport(db, path);
    expect(existsSync(path)).toBe(true);
    expect(readFileSync(path, 'utf8')).toMatch(/^<!doctype html>/i);
    expect(data.totals).toBeDefined();
    db.close();
  });

  it('names the path and the fix when it cannot write there', () => {
    const { db } = seedState(join(dir, 'second'));
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, 'not a folder');
    const path = join(blocker, 'report.html');
    expect(() => writeReport(db, path)).toThrow(ConfigError);
    expect(() => writeReport(db, path)).toThrow(`report --html ${path}: cannot write the file (EEXIST); choose a path in a writable folder`);
    db.close();
  });
});
