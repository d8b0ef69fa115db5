import ipaddr from 'ipaddr.js';
import { parseAddress } from './addresses.js';

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
      const network = parseNetwork(entry);
      if (!network) {
        throw new Error(`"${entry}" is not an IP address or CIDR range (example: 127.0.0.0/8,::1/128)`);
      }
      // A range with bits set past its prefix (127.0.0.2/8) usually means the operator meant one address:
      // refuse it rather than silently opening the whole range.
      const [address, prefix] = network;
      const base =
        address.kind() === 'ipv4'
          ? ipaddr.IPv4.networkAddressFromCIDR(`${address.toString()}/${prefix}`)
          : ipaddr.IPv6.networkAddressFromCIDR(`${address.toString()}/${prefix}`);
      if (base.toString() !== address.toString()) {
        throw new Error(
          `"${entry}" has address bits set past its /${prefix} prefix; write ${base.toString()}/${prefix} for the range or ${address.toString()}/${address.kind() === 'ipv4' ? 32 : 128} for the one address`,
        );
      }
      return normaliseNetwork(network);
    });
}

/** `a.b.c.d/n`, `x::y/n` or a bare address (a single-address range), with the same address parser as the guard. */
function parseNetwork(entry: string): Network | undefined {
  const match = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry);
  if (!match) return undefined;
  const address = parseAddress(match[1] ?? '');
  if (!address) return undefined;
  const max = address.kind() === 'ipv4' ? 32 : 128;
  const prefix = match[2] === undefined ? max : Number(match[2]);
  if (prefix > max) return undefined;
  return [address, prefix];
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
