/**
 * windows-1252 text from latin1 text. Node's TextDecoder('windows-1252') decodes as latin1 since Node 20.18.3/22.13.0
 * (nodejs/node#60888), turning Excel's € and curly quotes into C1 control characters; this maps them itself.
 */

/** The characters of bytes 0x80-0x9F (WHATWG Encoding Standard index); every other byte is its own code point. */
const HIGH = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\u0080-\u009f]/g;

/** Text decoded as latin1 (one character per byte, as csv-parse gives it), as windows-1252 would decode the bytes. */
export function windows1252FromLatin1(text: string): string {
  return text.replace(C1, (c) => HIGH[c.charCodeAt(0) - 0x80]!);
}

/** Decodes windows-1252 bytes. */
export function decodeWindows1252(bytes: Buffer): string {
  return windows1252FromLatin1(bytes.toString('latin1'));
}
