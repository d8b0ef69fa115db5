import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The classes an IP address can fall in, for the egress guard. Only `public` may be contacted unless the
 * operator allows more. Names are the ones shown to users in errors, so they say what the range is.
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'carrier-grade-nat'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'reserved'
  | 'unique-local'
  | 'site-local';

/** How an IPv6 address carries an IPv4 address. */
export type Embedding = 'ipv4-mapped' | 'ipv4-compatible' | 'ipv4-translated' | 'nat64' | '6to4' | 'teredo';

export interface Classification {
  addressClass: AddressClass;
  /**
   * The address actually to be contacted. Only IPv4-mapped IPv6 (::ffff:a.b.c.d) collapses to IPv4, because
   * that is what the kernel does with it on a dual-stack socket; every other form is contacted as written.
   */
  address: ipaddr.IPv4 | ipaddr.IPv6;
  /** The special-purpose range the address falls in (for `public`: none), as CIDR text. */
  range?: string;
  /** For IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo): that address. */
  embeddedIPv4?: string;
  embedding?: Embedding;
}

type Range = { cidr: string; net: [ipaddr.IPv4 | ipaddr.IPv6, number]; addressClass: AddressClass };

const range = (cidr: string, addressClass: AddressClass): Range => ({
  cidr,
  net: ipaddr.parseCIDR(cidr),
  addressClass,
});

/**
 * IANA's IPv4 special-purpose registry (RFC 6890 and successors), most specific first. Everything outside
 * these is public. Some entries of the registry are marked "globally reachable" (192.0.0.9/32 and the AS112
 * and AMT anycast ranges) but a screenshot or a webhook has no business there, so they stay refused.
 */
const IPV4_RANGES: Range[] = [
  range('0.0.0.0/8', 'unspecified'), // "this network"; connecting to 0.0.0.0 reaches the local host
  range('10.0.0.0/8', 'private'),
  range('100.64.0.0/10', 'carrier-grade-nat'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local'), // includes 169.254.169.254, the cloud metadata service
  range('172.16.0.0/12', 'private'),
  range('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  range('192.0.2.0/24', 'documentation'), // TEST-NET-1
  range('192.31.196.0/24', 'reserved'), // AS112
  range('192.52.193.0/24', 'reserved'), // AMT
  range('192.88.99.0/24', 'reserved'), // 6to4 relay anycast (deprecated)
  range('192.168.0.0/16', 'private'),
  range('192.175.48.0/24', 'reserved'), // AS112
  range('198.18.0.0/15', 'reserved'), // benchmarking
  range('198.51.100.0/24', 'documentation'), // TEST-NET-2
  range('203.0.113.0/24', 'documentation'), // TEST-NET-3
  range('224.0.0.0/4', 'multicast'),
  range('255.255.255.255/32', 'broadcast'),
  range('240.0.0.0/4', 'reserved'), // future use
];

/**
 * IPv6 special-purpose ranges that do not embed an IPv4 address. Forms that do (::ffff:0:0/96, ::/96,
 * ::ffff:0:0:0/96, 64:ff9b::/96, 64:ff9b:1::/48, 2002::/16, 2001::/32) are handled by `embeddedIPv4`.
 * Anything outside 2000::/3 (global unicast) that is not listed is reserved too.
 */
const IPV6_RANGES: Range[] = [
  range('::/128', 'unspecified'),
  range('::1/128', 'loopback'),
  range('100::/64', 'reserved'), // discard-only
  range('2001::/23', 'reserved'), // IETF protocol assignments (benchmarking, ORCHID, AMT, ...)
  range('2001:db8::/32', 'documentation'),
  range('2620:4f:8000::/48', 'reserved'), // AS112
  range('3fff::/20', 'documentation'),
  range('5f00::/16', 'reserved'), // segment routing SIDs
  range('fc00::/7', 'unique-local'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local'),
  range('ff00::/8', 'multicast'),
];

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * Parses an IP address written the way the rest of the system writes it, with or without IPv6 brackets or
 * zone id. IPv6 goes through the WHATWG host parser, which reads `::127.0.0.1` as the IPv4-compatible
 * ::7f00:1 like the kernel does (ipaddr.js alone would read it as IPv4-mapped). IPv4 must be dotted-quad:
 * the URL parser has already turned decimal, octal and hex forms into one (see target-url.ts). Returns
 * undefined for anything that is not an address.
 */
export function parseAddress(text: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  let bare = text.trim().replace(/^\[|\]$/g, '');
  const zone = bare.indexOf('%');
  if (zone >= 0) bare = bare.slice(0, zone);
  if (net.isIPv4(bare)) return ipaddr.IPv4.parse(bare);
  if (!net.isIPv6(bare)) return undefined;
  try {
    const canonical = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
    return ipaddr.IPv6.parse(canonical);
  } catch {
    return undefined;
  }
}

/** True for text that is an IP literal (not a name to resolve). */
export function isIpLiteral(text: string): boolean {
  return parseAddress(text) !== undefined;
}

/** Classifies an address given as text. Throws for text that is not an IP address. */
export function classifyAddress(text: string): Classification {
  const address = parseAddress(text);
  if (!address) throw new Error(`"${text}" is not an IP address`);
  return classifyParsed(address);
}

export function classifyParsed(address: ipaddr.IPv4 | ipaddr.IPv6): Classification {
  if (address.kind() === 'ipv4') return classifyIPv4(address as ipaddr.IPv4);
  const v6 = address as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded) {
    const inner = classifyIPv4(embedded.address);
    let addressClass = inner.addressClass;
    let rangeText = inner.range;
    if (embedded.embedding === 'teredo' && addressClass === 'public' && embedded.server) {
      // The packet goes through the Teredo server named in the address as well: both must be public.
      const server = classifyIPv4(embedded.server);
      addressClass = server.addressClass;
      rangeText = server.range;
    }
    if (addressClass === 'public' && !embedded.routable) {
      // Deprecated or local-use translation prefixes never lead to the public Internet.
      addressClass = 'reserved';
      rangeText = embedded.prefix;
    }
    const result: Classification = {
      addressClass,
      // Mapped addresses are the IPv4 host itself: connect to it as IPv4. Tunnel and translation forms
      // reach that host (if at all) through a relay: same class, IPv6 address kept as resolved.
      address: embedded.embedding === 'ipv4-mapped' ? embedded.address : v6,
      embeddedIPv4: embedded.address.toString(),
      embedding: embedded.embedding,
    };
    if (rangeText !== undefined) result.range = rangeText;
    return result;
  }
  const special = IPV6_RANGES.filter(({ net: [base, bits] }) => v6.match(base, bits)).sort(
    (a, b) => b.net[1] - a.net[1],
  )[0];
  if (special) return { addressClass: special.addressClass, address: v6, range: special.cidr };
  if (!v6.match(GLOBAL_UNICAST_V6))
    return { addressClass: 'reserved', address: v6, range: 'outside 2000::/3' };
  return { addressClass: 'public', address: v6 };
}

function classifyIPv4(address: ipaddr.IPv4): {
  addressClass: AddressClass;
  address: ipaddr.IPv4;
  range?: string;
} {
  const special = IPV4_RANGES.find(({ net: [base, bits] }) => address.match(base, bits));
  if (special) return { addressClass: special.addressClass, address, range: special.cidr };
  return { addressClass: 'public', address };
}

function lastFourBytes(v6: ipaddr.IPv6, xor = 0): ipaddr.IPv4 {
  const bytes = v6
    .toByteArray()
    .slice(12, 16)
    .map((byte) => byte ^ xor);
  return new ipaddr.IPv4(bytes);
}

interface Embedded {
  address: ipaddr.IPv4;
  embedding: Embedding;
  /** The IPv6 prefix of the form, for messages. */
  prefix: string;
  /** Whether the form can reach the public Internet when the IPv4 address is public. */
  routable: boolean;
  server?: ipaddr.IPv4;
}

function embeddedIPv4(v6: ipaddr.IPv6): Embedded | undefined {
  const parts = v6.parts;
  const p = (index: number) => parts[index] ?? 0;
  const zeros = (from: number, to: number) => parts.slice(from, to).every((part) => part === 0);
  if (zeros(0, 5) && p(5) === 0xffff) {
    return { address: lastFourBytes(v6), embedding: 'ipv4-mapped', prefix: '::ffff:0:0/96', routable: true };
  }
  // IPv4-compatible (::a.b.c.d, deprecated by RFC 4291): the first 96 bits are zero; :: and ::1 are not.
  if (zeros(0, 6) && (p(6) !== 0 || p(7) > 1)) {
    return { address: lastFourBytes(v6), embedding: 'ipv4-compatible', prefix: '::/96', routable: false };
  }
  // IPv4-translated (RFC 6145): ::ffff:0:a.b.c.d.
  if (zeros(0, 4) && p(4) === 0xffff && p(5) === 0) {
    return {
      address: lastFourBytes(v6),
      embedding: 'ipv4-translated',
      prefix: '::ffff:0:0:0/96',
      routable: false,
    };
  }
  // NAT64 well-known prefix (RFC 6052) and the local-use prefix (RFC 8215; the IPv4 sits in the last 32 bits
  // for the common /96 layout, which is the one a resolver hands out).
  if (p(0) === 0x64 && p(1) === 0xff9b && zeros(2, 6)) {
    return { address: lastFourBytes(v6), embedding: 'nat64', prefix: '64:ff9b::/96', routable: true };
  }
  if (p(0) === 0x64 && p(1) === 0xff9b && p(2) === 1) {
    return { address: lastFourBytes(v6), embedding: 'nat64', prefix: '64:ff9b:1::/48', routable: false };
  }
  if (p(0) === 0x2002) {
    const bytes = v6.toByteArray().slice(2, 6);
    return { address: new ipaddr.IPv4(bytes), embedding: '6to4', prefix: '2002::/16', routable: true };
  }
  // Teredo (RFC 4380): 2001:0:SERVER:flags:port:CLIENT, the client's IPv4 inverted in the last 32 bits.
  if (p(0) === 0x2001 && p(1) === 0) {
    const server = new ipaddr.IPv4(v6.toByteArray().slice(4, 8));
    return {
      address: lastFourBytes(v6, 0xff),
      embedding: 'teredo',
      prefix: '2001::/32',
      routable: true,
      server,
    };
  }
  return undefined;
}

const EMBEDDING_LABELS: Record<Embedding, string> = {
  'ipv4-mapped': 'IPv4-mapped',
  'ipv4-compatible': 'IPv4-compatible',
  'ipv4-translated': 'IPv4-translated',
  nat64: 'NAT64',
  '6to4': '6to4',
  teredo: 'Teredo',
};

/** A phrase naming the class, for error messages: "a loopback address (127.0.0.0/8)". */
export function describeClassification(classification: Classification): string {
  const { addressClass, range: rangeText, embedding, embeddedIPv4: inner } = classification;
  const article = addressClass === 'unspecified' ? 'an' : 'a';
  const where = rangeText ? ` (${rangeText})` : '';
  const base = `${article} ${addressClass} address${where}`;
  if (!embedding || embedding === 'ipv4-mapped' || !inner) return base;
  return `the ${EMBEDDING_LABELS[embedding]} IPv6 form of ${inner}, ${base}`;
}
