import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { v5 } from 'uuid';
import { EVENT_ID_NAMESPACE, eventIdFor } from '../../src/mapping/event-id.js';

describe('eventIdFor', () => {
  it('is the RFC 4122 UUID v5 of "<source>:<source event id>" in the xdm-feedback namespace (checked against uuid)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), fc.string({ unit: 'grapheme', maxLength: 60 }), (source, id) => {
        expect(eventIdFor(source, id)).toBe(v5(`${source}:${id}`, EVENT_ID_NAMESPACE));
      }),
      { seed: 42, numRuns: 500 },
    );
  });

  it('is the same for long and non-ASCII ids, longer than the scratch space it hashes in', () => {
    for (const id of ['x'.repeat(600), 'é✉'.repeat(400), `${'a'.repeat(5000)}-${'ü'.repeat(100)}`, '']) {
      expect(eventIdFor('crisisworks', id)).toBe(v5(`crisisworks:${id}`, EVENT_ID_NAMESPACE));
    }
    expect(eventIdFor('s', 'short')).toBe(v5('s:short', EVENT_ID_NAMESPACE)); // after the scratch space grew
  });

  it('keeps the ids already in state files and at Adobe (a fixed example)', () => {
    expect(eventIdFor('ovo-feedback', 'evt-1')).toBe(v5('ovo-feedback:evt-1', EVENT_ID_NAMESPACE));
    expect(eventIdFor('ovo-feedback', 'evt-1')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
