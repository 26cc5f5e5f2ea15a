/** Recipient addresses: email validity (as the XDM validator checks it) and phone numbers to E.164. */

// The same "fast" email check ajv-formats applies to emailChannelContext.address, so what we emit validates.
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;
const E164 = /^\+[1-9]\d{6,14}$/;
const PHONE_NOISE = /[\s().\-/]/g;

/** The trimmed address when it is a valid email, else undefined. */
export function validEmail(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const email = value.trim();
  return email.length <= 254 && EMAIL.test(email) ? email : undefined;
}

/**
 * A phone number in E.164 (`+<country><number>`), or undefined when it cannot be made one.
 * National numbers need a country calling code; their trunk prefix 0 is dropped.
 */
export function toE164(value: string | undefined, countryCode?: string): string | undefined {
  if (value === undefined) return undefined;
  let n = value.replace(PHONE_NOISE, '');
  if (n === '') return undefined;
  if (n.startsWith('00')) n = `+${n.slice(2)}`;
  if (!n.startsWith('+')) {
    const cc = countryCode?.replace(/[^\d]/g, '');
    if (!cc) return undefined;
    n = `+${cc}${n.replace(/^0+/, '')}`;
  }
  return E164.test(n) ? n : undefined;
}
