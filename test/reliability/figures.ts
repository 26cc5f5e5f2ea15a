/** Figures the reliability tests reached (for docs/guarantees.md): printed, and appended to $XDM_FEEDBACK_FIGURES when set. */
import { appendFileSync } from 'node:fs';

export function recordFigure(name: string, values: Record<string, unknown>): void {
  const line = JSON.stringify({ figure: name, soak: process.env.SOAK === '1', ...values });
  console.log(line);
  const file = process.env.XDM_FEEDBACK_FIGURES;
  if (file) appendFileSync(file, line + '\n');
}
