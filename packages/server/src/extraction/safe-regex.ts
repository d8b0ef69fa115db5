import { RE2JS } from 're2js';

/**
 * Regular expressions from templates run on RE2 (re2js, a pure-JavaScript port of Google's RE2): matching
 * takes time linear in the input whatever the pattern, so a ReDoS-prone pattern such as `(a+)+$` cannot
 * hang the service. RE2 has no backreferences or look-around; such a pattern is refused when the template
 * is checked. Inputs are cut at REGEX_INPUT_LIMIT characters (docs/compat.md): measured on Node 20, the
 * pathological `(a+)+$` scans 100,000 characters in about 0.35 s, so one rule stays near a second.
 */
export const REGEX_INPUT_LIMIT = 256 * 1024;

/** Matches kept per rule (a template asking for every character of a page is cut here). */
export const MAX_MATCHES = 10_000;

export type SafeRegex = RE2JS;

/** Compiles a pattern with flags among i, m, s; throws with RE2's message when it is not valid. */
export function compileSafeRegex(pattern: string, flags = ''): SafeRegex {
  let bits = 0;
  if (flags.includes('i')) bits |= RE2JS.CASE_INSENSITIVE;
  if (flags.includes('m')) bits |= RE2JS.MULTILINE;
  if (flags.includes('s')) bits |= RE2JS.DOTALL;
  return RE2JS.compile(pattern, bits);
}

export interface RegexMatch {
  /** The whole match. */
  match: string;
  /** Numbered groups (1..n). */
  groups: Array<string | null>;
  /** Named groups, when the pattern has any. */
  named: Record<string, string | null> | undefined;
}

/** Every match of `regex` in (the first REGEX_INPUT_LIMIT characters of) `input`. */
export function findAll(regex: SafeRegex, input: string, limit = MAX_MATCHES): RegexMatch[] {
  const text = input.length > REGEX_INPUT_LIMIT ? input.slice(0, REGEX_INPUT_LIMIT) : input;
  const matcher = regex.matcher(text);
  const names = Object.keys(regex.namedGroups());
  const found: RegexMatch[] = [];
  // find() moves past an empty match by itself (Java's Matcher semantics); the count bounds the loop anyway.
  for (let round = 0; found.length < limit && round <= text.length + 1 && matcher.find(); round++) {
    const groups: Array<string | null> = [];
    for (let index = 1; index <= matcher.groupCount(); index++) groups.push(matcher.group(index));
    found.push({
      match: matcher.group() ?? '',
      groups,
      named:
        names.length > 0 ? Object.fromEntries(names.map((name) => [name, matcher.group(name)])) : undefined,
    });
  }
  return found;
}
