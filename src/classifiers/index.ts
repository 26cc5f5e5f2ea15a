/** One lookup engine for provider-code classifiers (SMTP, Twilio, Mailgun, Stannp, OVO ErrorCodes); the tables are data. */
import { readFileSync } from 'node:fs';

/** XDM feedbackStatus values, plus `skip` (not an outcome). */
export type FeedbackStatusOrSkip =
  | 'error'
  | 'exclude'
  | 'sent'
  | 'bounce'
  | 'delay'
  | 'duplicate'
  | 'denylist'
  | 'delivered'
  | 'read'
  | 'unknown'
  | 'skip';

export type FailureType = 'soft' | 'hard' | 'none';
export type FailureCategory = 'sync' | 'async';

/** One classification, as written in a classifier file. */
export interface ClassifierEntry {
  /** Why the code is classified this way (documentation; required in the files). */
  why: string;
  /** What the code means; becomes messageFailure.reason when the provider gave no text. */
  meaning?: string;
  type?: FailureType;
  category?: FailureCategory;
  /** Overrides the status table's feedbackStatus (e.g. Twilio 21610 → denylist). */
  feedbackStatus?: FeedbackStatusOrSkip;
  /** messageExclusion.code when the verdict is `exclude`. */
  exclusionCode?: string;
}

/** A classifier file (`mappings/classifiers/<name>.json`) or an inline classifier of a mapping. */
export interface ClassifierDefinition {
  name: string;
  description?: string;
  sources?: string[];
  /** Regular expressions tried in order; the first capture group (else the whole match) of the first hit is the code. */
  extract?: string[];
  ignoreCase?: boolean;
  codes?: Record<string, ClassifierEntry>;
  prefixes?: Record<string, ClassifierEntry>;
  default: ClassifierEntry;
}

/** The answer of a classifier for one input. */
export interface Verdict {
  /** False when the code was missing or unknown and `entry` is the classifier's default. */
  recognised: boolean;
  /** The code found (extracted from text, or the input itself when the classifier has no extract patterns). */
  code?: string;
  entry: ClassifierEntry;
}

/** How many distinct unknown codes per classifier are named in the stats; the rest are only counted. */
const MAX_NAMED_UNKNOWN = 20;
/** Unknown codes are named in stats only when they look like codes (never free text that may hold personal data). */
const CODE_LIKE = /^[\w.:-]{1,40}$/;

/** A compiled classifier: lookup tables built once, regexes compiled once. */
export class Classifier {
  readonly name: string;
  private readonly extract: RegExp[];
  private readonly ignoreCase: boolean;
  private readonly codes = new Map<string, ClassifierEntry>();
  /** Longest first, so the first hit is the longest prefix. */
  private readonly prefixes: Array<[string, ClassifierEntry]>;
  private readonly fallback: ClassifierEntry;
  private fallbacks = 0;
  private readonly unknown = new Map<string, number>();

  constructor(definition: ClassifierDefinition) {
    this.name = definition.name;
    this.ignoreCase = definition.ignoreCase === true;
    this.extract = (definition.extract ?? []).map((p) => new RegExp(p, this.ignoreCase ? 'i' : ''));
    for (const [code, entry] of Object.entries(definition.codes ?? {})) this.codes.set(this.norm(code), entry);
    this.prefixes = Object.entries(definition.prefixes ?? {})
      .map(([p, e]): [string, ClassifierEntry] => [this.norm(p), e])
      .sort((a, b) => b[0].length - a[0].length);
    this.fallback = definition.default;
  }

  /** True when the classifier can find codes inside free text (it has extract patterns). */
  get readsText(): boolean {
    return this.extract.length > 0;
  }

  /** The classifier's default entry (for codes it does not know). */
  get defaultEntry(): ClassifierEntry {
    return this.fallback;
  }

  private norm(code: string): string {
    return this.ignoreCase ? code.toLowerCase() : code;
  }

  /** Finds the code in the input: the first capture of the first matching extract pattern, or the input itself. */
  findCode(input: string | undefined): string | undefined {
    if (input === undefined) return undefined;
    const text = input.trim();
    if (text === '') return undefined;
    if (this.extract.length === 0) return text;
    for (const re of this.extract) {
      const m = re.exec(text);
      if (m) return m[1] ?? m[0];
    }
    return undefined;
  }

  /** Looks a code up without counting anything. */
  lookup(code: string | undefined): Verdict {
    if (code === undefined) return { recognised: false, entry: this.fallback };
    const key = this.norm(code);
    const exact = this.codes.get(key);
    if (exact) return { recognised: true, code, entry: exact };
    for (const [prefix, entry] of this.prefixes) if (key.startsWith(prefix)) return { recognised: true, code, entry };
    return { recognised: false, code, entry: this.fallback };
  }

  /** Classifies one input (a code, or free text when the classifier has extract patterns). */
  classify(input: string | undefined): Verdict {
    return this.lookup(this.findCode(input));
  }

  /** Counts a verdict that fell back to the default (called by the mapper once per record it decided). */
  countFallback(code: string | undefined): void {
    this.fallbacks++;
    const key = code === undefined ? '(no code)' : CODE_LIKE.test(code) ? code : '(unrecognised text)';
    const seen = this.unknown.get(key);
    if (seen !== undefined) this.unknown.set(key, seen + 1);
    else if (this.unknown.size < MAX_NAMED_UNKNOWN) this.unknown.set(key, 1);
  }

  /** `classifier.<name>.fallback` (total) and `classifier.<name>.fallback.<code>` for the first distinct codes. */
  stats(): Record<string, number> {
    const out: Record<string, number> = {};
    if (this.fallbacks === 0) return out;
    out[`classifier.${this.name}.fallback`] = this.fallbacks;
    for (const [code, n] of this.unknown) out[`classifier.${this.name}.fallback.${code}`] = n;
    return out;
  }
}

/** Reads and compiles a classifier file (its structure is checked by the mapping loader's schema). */
export function readClassifierFile(path: string): ClassifierDefinition {
  return JSON.parse(readFileSync(path, 'utf8')) as ClassifierDefinition;
}
