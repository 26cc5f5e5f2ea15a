/** Scrubs secrets and personal data (tokens, Bearer headers, emails, phone numbers) out of text we log or store. */

const patterns: Array<[RegExp, string]> = [
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer [redacted]'],
  // JWT-shaped tokens (three base64url parts)
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b/g, '[redacted-token]'],
  [/((?:client_secret|access_token|refresh_token|api[_-]?key|password|token)["']?\s*[:=]\s*["']?)[^"'&\s,}]+/gi, '$1[redacted]'],
  // The lookbehind makes a match start only where a run of local-part characters starts: without it, a long run
  // with no "@" (a 300 KB field) is rescanned from every position, quadratic time that stalls the whole run.
  [/(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?!AdobeOrg\b)[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, '[email]'],
  // E.164 or national phone numbers: 8+ digits, optionally led by + and split by spaces/dashes; not dates (YYYY-MM-DD)
  [/(?<![\w.:-])(?!\d{4}-\d{2}-\d{2}(?!\d))\+?\d(?:[ -]?\d){7,14}(?![\w.:-])/g, '[phone]'],
];

export function redactText(text: string): string {
  let out = text;
  for (const [re, replacement] of patterns) out = out.replace(re, replacement);
  return out;
}

/** Registers secret values (client secret, tokens) so they are scrubbed even when they match no pattern. */
const knownSecrets = new Set<string>();
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) knownSecrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of knownSecrets) out = out.split(secret).join('[redacted]');
  return redactText(out);
}
