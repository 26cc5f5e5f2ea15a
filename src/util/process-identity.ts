/**
 * Which process owns something left on disk, robust to PID reuse. A PID alone is not enough: Linux hands PIDs out
 * again (pid_max is 32,768 on many hosts, and every thread takes one), so a crashed run's PID can belong to a new
 * process minutes later, which then looked like the live owner. Where /proc exists, the process's start time
 * (field 22 of /proc/<pid>/stat, in clock ticks since boot) tells the two apart.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  pid: number;
  host: string;
  /** Start time from /proc (Linux); absent elsewhere. */
  start?: string;
}

/** The start time of a process from /proc, or undefined where there is no /proc or no such process. */
export function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** This process. */
export function currentProcess(): ProcessIdentity {
  const start = startOf(process.pid);
  return { pid: process.pid, host: hostname(), ...(start !== undefined ? { start } : {}) };
}

/** How a start time is written into names and owner ids: `x` where it is unknown. */
export function startLabel(identity: ProcessIdentity): string {
  return identity.start ?? 'x';
}

/** The identity that a name or owner id describes, its start time as `startLabel` wrote it (or absent). */
export function identityFrom(host: string, pid: number, start: string | undefined): ProcessIdentity {
  return { pid, host, ...(start && start !== 'x' ? { start } : {}) };
}

/** True when that process still runs on this host (a PID now used by another process does not count). */
export function isRunning(owner: ProcessIdentity): boolean {
  if (owner.host !== hostname()) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.start === undefined) return true;
  const start = startOf(owner.pid);
  return start === undefined || start === owner.start;
}
