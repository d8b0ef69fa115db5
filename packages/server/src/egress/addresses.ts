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
  | 'reserved'
  | 'unique-local'
  | 'site-local';

export interface Classification {
  addressClass: AddressClass;
  /** The address actually to be contacted: IPv4-mapped and IPv4-compatible IPv6 collapse to IPv4. */
  address: ipaddr.IPv4 | ipaddr.IPv6;
  /** For IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo): that address. */
  embeddedIPv4?: string;
}

const IPV4_CLASSES: Record<string, AddressClass> = {
  unicast: 'public',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade-nat',
  private: 'private',
  reserved: 'reserved',
  as112: 'reserved',
  amt: 'reserved',
};

const IPV6_CLASSES: Record<string, AddressClass> = {
  unicast: 'public',
  unspecified: 'unspecified',
  linkLocal: 'link-local',
  multicast: 'multicast',
  loopback: 'loopback',
  uniqueLocal: 'unique-local',
  deprecatedSiteLocal: 'site-local',
};

/** Extra IPv4 ranges ipaddr.js calls unicast but that are not on the public Internet. */
const EXTRA_IPV4_RESERVED = [
  ipaddr.parseCIDR('192.0.0.0/24'), // IETF protocol assignments
  ipaddr.parseCIDR('198.18.0.0/15'), // benchmarking
] as const;

/** Classifies an address given as text (any form ipaddr.js accepts, IPv6 with or without brackets). */
export function classifyAddress(text: string): Classification {
  const address = ipaddr.parse(text.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  return classifyParsed(address);
}

export function classifyParsed(address: ipaddr.IPv4 | ipaddr.IPv6): Classification {
  if (address.kind() === 'ipv4') return classifyIPv4(address as ipaddr.IPv4);
  const v6 = address as ipaddr.IPv6;
  const embedded = embeddedIPv4(v6);
  if (embedded) {
    const inner = classifyIPv4(embedded.address);
    // Mapped and compatible forms are the IPv4 host itself: connect to it as IPv4.
    // Tunnel forms (NAT64, 6to4, Teredo) reach that IPv4 host through a relay: same class, IPv6 address kept.
    return {
      addressClass: inner.addressClass,
      address: embedded.collapse ? embedded.address : v6,
      embeddedIPv4: embedded.address.toString(),
    };
  }
  const range = v6.range();
  return { addressClass: IPV6_CLASSES[range] ?? 'reserved', address: v6 };
}

function classifyIPv4(address: ipaddr.IPv4): Classification {
  const range = address.range();
  let addressClass = IPV4_CLASSES[range] ?? 'reserved';
  if (addressClass === 'public' && EXTRA_IPV4_RESERVED.some(([net, bits]) => address.match(net, bits))) {
    addressClass = 'reserved';
  }
  return { addressClass, address };
}

function lastFourBytes(v6: ipaddr.IPv6, xor = 0): ipaddr.IPv4 {
  const bytes = v6
    .toByteArray()
    .slice(12, 16)
    .map((byte) => byte ^ xor);
  return new ipaddr.IPv4(bytes);
}

function embeddedIPv4(v6: ipaddr.IPv6): { address: ipaddr.IPv4; collapse: boolean } | undefined {
  const range = v6.range();
  const parts = v6.parts;
  if (range === 'ipv4Mapped' || range === 'rfc6145') return { address: lastFourBytes(v6), collapse: true };
  // IPv4-compatible (::a.b.c.d, deprecated): the first 96 bits are zero; :: and ::1 are not embeddings.
  if (parts.slice(0, 6).every((part) => part === 0) && (parts[6] !== 0 || (parts[7] ?? 0) > 1)) {
    return { address: lastFourBytes(v6), collapse: true };
  }
  if (range === 'rfc6052') return { address: lastFourBytes(v6), collapse: false };
  if (range === '6to4') {
    const bytes = v6.toByteArray().slice(2, 6);
    return { address: new ipaddr.IPv4(bytes), collapse: false };
  }
  // Teredo carries the client's IPv4 in the last 32 bits, inverted.
  if (range === 'teredo') return { address: lastFourBytes(v6, 0xff), collapse: false };
  return undefined;
}

/** True for text that is an IP literal (not a name to resolve). */
export function isIpLiteral(text: string): boolean {
  return ipaddr.isValid(text.replace(/^\[|\]$/g, ''));
}
