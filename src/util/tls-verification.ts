/** Keeps TLS certificate verification on for every connection the CLI makes, whatever the environment says. */

/**
 * Removes `NODE_TLS_REJECT_UNAUTHORIZED=0` from the environment. Node reads it at every TLS connect and would then
 * skip verification for every client that does not set `rejectUnauthorized` itself (the global `fetch` the MasStack
 * API and schema registry clients use); the Adobe client sets it explicitly. Returns whether it had to.
 */
export function enforceTlsVerification(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NODE_TLS_REJECT_UNAUTHORIZED !== '0') return false;
  delete env.NODE_TLS_REJECT_UNAUTHORIZED;
  return true;
}
