/** Shared helpers for the sink tests: events, a virtual clock, a log capture. */
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import type { OutboundEvent, XdmEvent } from '../../src/core/types.js';
import { createLogger } from '../../src/log.js';
import type { SinkClock } from '../../src/sinks/adobe-streaming/index.js';
import { JsonBytes } from '../../src/core/json-bytes.js';

/** An outbound event with the object it was serialised from, to compare what a sink sent with it. */
export type TestEvent = OutboundEvent & { event: XdmEvent };

/** An outbound event of `event`. */
export function testEvent(event: XdmEvent): TestEvent {
  return { id: event._id, eventType: event.eventType, event, json: JsonBytes.of(JSON.stringify(event)) };
}

/** Builds outbound events; `pad` adds that many characters to each entity. */
export function makeEvents(n: number, options: { eventType?: string; pad?: number | ((i: number) => number); prefix?: string } = {}): TestEvent[] {
  return Array.from({ length: n }, (_, i) => {
    const eventType = options.eventType ?? 'message.feedback';
    const pad = typeof options.pad === 'function' ? options.pad(i) : (options.pad ?? 0);
    return testEvent({
      _id: `${options.prefix ?? 'evt'}-${i}`,
      timestamp: '2025-01-02T03:04:05Z',
      eventType,
      ...(pad > 0 ? { note: 'x'.repeat(pad) } : {}),
    });
  });
}

/** A clock whose time only moves when the sink sleeps: backoffs and deadlines cost no real time. */
export interface VirtualClock extends SinkClock {
  t: number;
  sleeps: number[];
}

export function virtualClock(): VirtualClock {
  const clock: VirtualClock = {
    t: 0,
    sleeps: [],
    now: () => clock.t,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason;
      clock.sleeps.push(ms);
      clock.t += ms;
    },
  };
  return clock;
}

/** A pino logger (through the project's redaction) whose output lines are kept. */
export function captureLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  });
  return { log, lines };
}

/** The DCS messages of a recorded request. */
export function messagesOf(json: unknown): Array<{ header: Record<string, unknown>; body: { xdmMeta: unknown; xdmEntity: { _id: string } } }> {
  return ((json as { messages?: unknown[] } | undefined)?.messages ?? []) as never;
}
