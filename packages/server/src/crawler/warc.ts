import { createHash, randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import zlib from 'node:zlib';
import type { UpstreamAnswer } from '../scrape/fetch-upstream.js';

/**
 * WARC 1.1 records (ISO 28500:2017) of a crawl, each record its own gzip member, so that a crawl's artifact
 * is the concatenation of a warcinfo record and every page's stored request + response records, readable
 * by standard WARC tools (warcio, pywb). The HTTP block carries the body as Snapwire received it decoded:
 * Content-Encoding and Transfer-Encoding are taken out and Content-Length is the body's length.
 */

const CRLF = '\r\n';

function record(type: string, fields: Record<string, string>, block: Buffer): Buffer {
  const head = [
    'WARC/1.1',
    `WARC-Type: ${type}`,
    ...Object.entries(fields).map(([name, value]) => `${name}: ${value}`),
    `WARC-Block-Digest: sha1:${base32(createHash('sha1').update(block).digest())}`,
    `Content-Length: ${block.length}`,
  ].join(CRLF);
  return zlib.gzipSync(
    Buffer.concat([Buffer.from(head + CRLF + CRLF, 'utf8'), block, Buffer.from(CRLF + CRLF)]),
  );
}

const recordId = () => `<urn:uuid:${randomUUID()}>`;
const warcDate = (epochMs: number) => new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Header values on one line: a CR or LF in a value would start a new header. */
const oneLine = (value: string) => value.replace(/[\r\n]+/g, ' ');

/** The warcinfo record that opens a crawl's WARC file. */
export function warcInfo(crawlUuid: string, seedUrl: string, epochMs: number): Buffer {
  const fields = `software: Snapwire\r\nformat: WARC File Format 1.1\r\ncrawler-uuid: ${crawlUuid}\r\nseed-url: ${oneLine(seedUrl)}\r\n`;
  return record(
    'warcinfo',
    {
      'WARC-Record-ID': recordId(),
      'WARC-Date': warcDate(epochMs),
      'WARC-Filename': `${crawlUuid}.warc.gz`,
      'Content-Type': 'application/warc-fields',
    },
    Buffer.from(fields, 'utf8'),
  );
}

/** A visited page as its response record and the request record concurrent to it (gzip members). */
export function pageRecords(answer: UpstreamAnswer, epochMs: number): Buffer {
  const target = new URL(answer.url);
  const responseId = recordId();
  const date = warcDate(epochMs);
  const headerLines: string[] = [];
  for (const [name, value] of Object.entries(answer.headers)) {
    if (['content-encoding', 'transfer-encoding', 'content-length', 'set-cookie'].includes(name)) continue;
    headerLines.push(`${name}: ${oneLine(value)}`);
  }
  for (const cookie of answer.setCookies) headerLines.push(`set-cookie: ${oneLine(cookie)}`);
  headerLines.push(`content-length: ${answer.body.length}`);
  const responseBlock = Buffer.concat([
    Buffer.from(
      `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ''}${CRLF}${headerLines.join(CRLF)}${CRLF}${CRLF}`,
      'utf8',
    ),
    answer.body,
  ]);
  const requestLines = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `host: ${target.host}`,
    ...Object.entries(answer.requestHeaders).map(([name, value]) => `${name}: ${oneLine(value)}`),
  ];
  const requestBlock = Buffer.from(requestLines.join(CRLF) + CRLF + CRLF, 'utf8');
  const common = {
    'WARC-Date': date,
    'WARC-Target-URI': answer.url,
    ...(answer.address ? { 'WARC-IP-Address': answer.address } : {}),
  };
  return Buffer.concat([
    record(
      'response',
      {
        'WARC-Record-ID': responseId,
        ...common,
        'WARC-Payload-Digest': `sha1:${base32(createHash('sha1').update(answer.body).digest())}`,
        'Content-Type': 'application/http;msgtype=response',
      },
      responseBlock,
    ),
    record(
      'request',
      {
        'WARC-Record-ID': recordId(),
        ...common,
        'WARC-Concurrent-To': responseId,
        'Content-Type': 'application/http;msgtype=request',
      },
      requestBlock,
    ),
  ]);
}

/** RFC 4648 base32, as WARC digests are written. */
function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}
