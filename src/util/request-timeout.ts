/** A per-request abort signal: fires on a whole-request timeout or when the caller's signal aborts. */

export interface RequestTimeout {
  /** Pass to the request. */
  readonly signal: AbortSignal;
  /** True once the timeout (not the caller) aborted the request. */
  timedOut(): boolean;
  /** Clears the timer and unwires the caller's signal; call in `finally`. */
  dispose(): void;
}

/**
 * One controller per request, wired by hand and unwired by `dispose` (AbortSignal.any on a long-lived caller signal
 * has leaked listeners in some Node versions).
 */
export function requestTimeout(timeoutMs: number, caller?: AbortSignal): RequestTimeout {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  const onCallerAbort = (): void => controller.abort();
  caller?.addEventListener('abort', onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    },
  };
}
