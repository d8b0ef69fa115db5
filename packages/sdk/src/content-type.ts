// File extensions from a Content-Type. Scrapfly's SDKs name a screenshot file after the content-type
// subtype (docs/compat.md §2: `image/jpeg` -> `jpeg`), so this does the same; the few subtypes that are not
// usable as an extension as they stand are mapped.

const SPECIAL: Record<string, string> = {
  'svg+xml': 'svg',
  'x-icon': 'ico',
  'vnd.microsoft.icon': 'ico',
  'octet-stream': 'bin',
  plain: 'txt',
};

/** `image/png` -> `png`, `image/jpeg` -> `jpeg`, `application/json; charset=utf-8` -> `json`; `bin` if unknown. */
export function extensionFor(contentType: string | null | undefined): string {
  if (!contentType) return 'bin';
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  const slash = mime.indexOf('/');
  if (slash <= 0) return 'bin';
  const subtype = mime.slice(slash + 1);
  const mapped = SPECIAL[subtype];
  if (mapped) return mapped;
  // `application/problem+json` -> `json`; anything else must be a plain token to be safe in a file name.
  const plus = subtype.lastIndexOf('+');
  const candidate = plus >= 0 ? subtype.slice(plus + 1) : subtype;
  return /^[a-z0-9][a-z0-9.-]{0,15}$/.test(candidate) ? candidate : 'bin';
}

/** True for `application/json` and `application/*+json`, with or without parameters. */
export function isJsonContentType(contentType: string | null | undefined): boolean {
  if (!contentType) return false;
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  return mime === 'application/json' || (mime.startsWith('application/') && mime.endsWith('+json'));
}
