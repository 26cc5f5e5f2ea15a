/** Shared inputs of the validation tests: fixture events and paths. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { XdmEvent } from '../../src/core/types.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SOURCE_DIR = fileURLToPath(new URL('../../xdm-schemas/source/', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/xdm/', import.meta.url));

export function readJson<T = unknown>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** A fresh copy of a fixture event (tests mutate them). */
export function fixtureEvent(name: 'email-hard-bounce' | 'sms-delay'): XdmEvent {
  return readJson<XdmEvent>(`${FIXTURES}${name}.json`);
}

/** The `_experience.customerJourneyManagement` object of an event, typed loosely for mutation in tests. */
export function cjm(event: XdmEvent): any {
  return (event as any)._experience.customerJourneyManagement;
}
