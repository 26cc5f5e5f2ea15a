/** SIGTERM/SIGINT handling: the first signal stops reading (in-flight work finishes and commits); a second exits now. */
import type { Logger } from 'pino';

export function onShutdownSignal(controller: AbortController, log: Logger): () => void {
  let count = 0;
  const handler = (signal: NodeJS.Signals) => {
    count++;
    if (count === 1) {
      log.warn({ signal }, 'stopping: finishing the in-flight batch and committing (send the signal again to exit at once)');
      controller.abort();
    } else {
      process.exit(130);
    }
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}
