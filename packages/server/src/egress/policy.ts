import ipaddr from 'ipaddr.js';
import { classifyParsed, describeClassification, parseAddress, type AddressClass } from './addresses.js';
import { formatNetwork, networkContains, type Network } from './networks.js';

export const ALLOW_SETTING = 'SNAPWIRE_ALLOWED_NETWORKS';
export const DENY_SETTING = 'SNAPWIRE_DENIED_NETWORKS';

export type EgressDecision =
  | { allowed: true; address: string; family: 4 | 6 }
  | {
      allowed: false;
      address: string;
      addressClass: AddressClass | 'denied';
      /** What the address is: "a loopback address (127.0.0.0/8)". */
      description: string;
      /** What an operator would change to allow it. */
      remedy: string;
      /** One sentence with both, naming the address. */
      reason: string;
    };

/**
 * Decides whether one resolved address may be contacted. Public addresses are allowed unless the operator
 * denies them (SNAPWIRE_DENIED_NETWORKS); every other class is refused unless the operator opens a range
 * holding it (SNAPWIRE_ALLOWED_NETWORKS). The deny list wins over the allow list.
 *
 * The allow list opens exactly what it names: an IPv4 range opens those IPv4 addresses and their
 * IPv4-mapped IPv6 spelling (the same host), never their NAT64, 6to4, Teredo or IPv4-compatible forms.
 * The deny list is broader on purpose: it also closes every IPv6 form that carries a denied IPv4 address.
 */
export class EgressPolicy {
  constructor(
    private readonly allowed: Network[],
    private readonly denied: Network[] = [],
  ) {}

  /** The ranges themselves, to derive a policy for another destination (operator-endpoint.ts). */
  get networks(): { allowed: Network[]; denied: Network[] } {
    return { allowed: [...this.allowed], denied: [...this.denied] };
  }

  get allowedNetworks(): string[] {
    return this.allowed.map(formatNetwork);
  }

  get deniedNetworks(): string[] {
    return this.denied.map(formatNetwork);
  }

  check(addressText: string): EgressDecision {
    const parsed = parseAddress(addressText);
    if (!parsed) {
      return {
        allowed: false,
        address: addressText,
        addressClass: 'reserved',
        description: 'not an IP address',
        remedy: 'the resolver must answer IP addresses',
        reason: `"${addressText}" is not an IP address`,
      };
    }
    const classification = classifyParsed(parsed);
    const { addressClass, address } = classification;
    const shown = address.toString();
    const family = address.kind() === 'ipv4' ? 4 : 6;
    const forms: Array<ipaddr.IPv4 | ipaddr.IPv6> = [parsed, address];
    if (classification.embeddedIPv4) forms.push(ipaddr.IPv4.parse(classification.embeddedIPv4));
    const denied = this.denied.find((network) => forms.some((form) => networkContains(network, form)));
    if (denied) {
      const description = `in ${formatNetwork(denied)}, a range closed by ${DENY_SETTING}`;
      const remedy = `an operator can remove ${formatNetwork(denied)} from ${DENY_SETTING}`;
      return {
        allowed: false,
        address: shown,
        addressClass: 'denied',
        description,
        remedy,
        reason: `${shown} is ${description}; ${remedy}`,
      };
    }
    if (addressClass === 'public') return { allowed: true, address: shown, family };
    if (this.allowed.some((network) => networkContains(network, address))) {
      return { allowed: true, address: shown, family };
    }
    const description = describeClassification(classification);
    const remedy = `an operator can allow it by adding ${shown}/${family === 4 ? 32 : 128} (or a range holding it) to ${ALLOW_SETTING}`;
    return {
      allowed: false,
      address: shown,
      addressClass,
      description,
      remedy,
      reason: `${shown} is ${description}; ${remedy}`,
    };
  }
}
