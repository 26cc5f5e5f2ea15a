/** The connector's error taxonomy: the engine decides what to retry, dead-letter or stop on by class. */

export type ErrorCode = 'config' | 'record' | 'retryable' | 'auth' | 'fatal' | 'state';

/** Base of every error the connector raises on purpose. Messages never contain secrets or personal data. */
export class ConnectorError extends Error {
  override readonly name: string = 'ConnectorError';
  constructor(
    message: string,
    readonly code: ErrorCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Bad configuration or arguments (exit code 2). Not retried. The message names the key and the fix. */
export class ConfigError extends ConnectorError {
  override readonly name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'config', options);
  }
}

/** One record cannot be processed; it goes to the dead-letter table, never retried, never fatal. */
export class RecordError extends ConnectorError {
  override readonly name = 'RecordError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'record', options);
  }
}

/** A transient failure (429, 5xx, network): retried with backoff until the deadline. */
export class RetryableError extends ConnectorError {
  override readonly name = 'RetryableError';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, 'retryable', options);
  }
}

/** Authentication failed (401/403 after one token refresh, IMS refusal): fatal for the run (exit code 1). */
export class AuthError extends ConnectorError {
  override readonly name = 'AuthError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'auth', options);
  }
}

/** The state database is locked, corrupt or from a newer version: fatal, with no partial writes. */
export class StateError extends ConnectorError {
  override readonly name = 'StateError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'state', options);
  }
}

/** Any other fatal condition (403, unexpected 4xx from Adobe, broken invariant): stops the run (exit code 1). */
export class FatalError extends ConnectorError {
  override readonly name = 'FatalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'fatal', options);
  }
}

/** Process exit codes a scheduler can act on. */
export const ExitCode = {
  ok: 0,
  fatal: 1,
  badConfig: 2,
  deadLetters: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeFor(error: unknown): ExitCode {
  return error instanceof ConfigError ? ExitCode.badConfig : ExitCode.fatal;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
