import ipaddr from 'ipaddr.js';

/** A CIDR range as ipaddr.js represents it: [network address, prefix length]. */
export type Network = [ipaddr.IPv4 | ipaddr.IPv6, number];

/**
 * Parses an operator's comma-separated CIDR list (`127.0.0.0/8,::1/128`). A bare address counts as a
 * single-address range. Throws an Error naming the entry that is not a range.
 */
export function parseNetworkList(csv: string): Network[] {
  return csv
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0)
    .map((entry) => {
      try {
        if (entry.includes('/')) return normaliseNetwork(ipaddr.parseCIDR(entry));
        const address = ipaddr.parse(entry);
        return normaliseNetwork([address, address.kind() === 'ipv4' ? 32 : 128]);
      } catch {
        throw new Error(`"${entry}" is not an IP address or CIDR range (example: 127.0.0.0/8,::1/128)`);
      }
    });
}

/** An IPv4-mapped IPv6 range (::ffff:10.0.0.0/104) is treated as the IPv4 range it names. */
function normaliseNetwork([address, prefix]: Network): Network {
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    return [(address as ipaddr.IPv6).toIPv4Address(), prefix - 96];
  }
  return [address, prefix];
}

export function networkContains(network: Network, address: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  const [base, prefix] = network;
  if (base.kind() !== address.kind()) return false;
  return address.match(base, prefix);
}

export function formatNetwork([address, prefix]: Network): string {
  return `${address.toString()}/${prefix}`;
}
