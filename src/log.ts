/** pino logger: JSON lines by default, pretty on a TTY; every message and string field passes through redaction. */
import pino, { type Logger, type LevelWithSilent } from 'pino';
import { redact } from './redact.js';

export type { Logger };

export interface LogOptions {
  level?: LevelWithSilent;
  /** Pretty, human-readable lines (default: when stderr is a TTY). */
  pretty?: boolean;
  /** Where JSON lines go (default: stderr, so stdout stays free for --json output). */
  destination?: pino.DestinationStream;
}

function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object') return value;
  // Deeper than this (or cyclic), the rest is logged as redacted JSON text rather than passed through unscrubbed.
  if (depth > 4) return redact(jsonText(value));
  if (value instanceof Error) return { type: value.name, message: redact(value.message) };
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrub(v, depth + 1);
  return out;
}

function jsonText(value: object): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '[unserialisable]';
  }
}

export function createLogger(options: LogOptions = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  const base: pino.LoggerOptions = {
    level: options.level ?? (process.env.XDM_FEEDBACK_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info',
    base: undefined,
    redact: {
      paths: [
        ...['authorization', 'Authorization', 'client_secret', 'clientSecret', 'access_token', 'token'].flatMap((k) => [k, `*.${k}`]),
        'headers',
      ],
      censor: '[redacted]',
    },
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => scrub(a)) as Parameters<typeof method>);
      },
    },
  };
  if (options.destination) return pino(base, options.destination);
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' } },
    });
  }
  return pino(base, pino.destination({ dest: 2, sync: true }));
}

/** A logger that discards everything (library use and tests). */
export const silentLogger: Logger = pino({ level: 'silent' });
