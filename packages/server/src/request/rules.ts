import { ApiError } from '../errors.js';

/** What the request parsers share: the catalogue error of a bad parameter and the character rules. */

/** A refused parameter: the reason says what to fix (and never echoes a secret value). */
export const configError = (reason: string) => new ApiError('ERR::SCRAPE::CONFIG_ERROR', reason);

/** An HTTP token (header and cookie names). */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Control characters (tab allowed): a value must stay one line. */
export const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** A query string as parsed: a repeated name gives an array. */
export type Query = Record<string, string | string[] | undefined>;
