import ipaddr from 'ipaddr.js';
import { classifyParsed, type AddressClass } from './addresses.js';
import { networkContains, type Network } from './networks.js';

export type EgressDecision =
  | { allowed: true; address: string; family: 4 | 6 }
  | { allowed: false; address: string; addressClass: AddressClass | 'denied'; reason: string };

/**
 * Decides whether one resolved address may be contacted. Public addresses are allowed unless the operator
 * denies them (SNAPWIRE_DENIED_NETWORKS); every other class is refused unless the operator opens its exact
 * range (SNAPWIRE_ALLOWED_NETWORKS). The deny list wins over the allow list.
 */
export class EgressPolicy {
  constructor(
    private readonly allowed: Network[],
    private readonly denied: Network[] = [],
  ) {}

  check(addressText: string): EgressDecision {
    let parsed: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      parsed = ipaddr.parse(addressText.replace(/^\[|\]$/g, ''));
    } catch {
      return { allowed: false, address: addressText, addressClass: 'reserved', reason: 'not an IP address' };
    }
    const { addressClass, address } = classifyParsed(parsed);
    const shown = address.toString();
    if (
      this.denied.some((network) => networkContains(network, address) || networkContains(network, parsed))
    ) {
      return {
        allowed: false,
        address: shown,
        addressClass: 'denied',
        reason: `${shown} is in SNAPWIRE_DENIED_NETWORKS`,
      };
    }
    if (addressClass === 'public')
      return { allowed: true, address: shown, family: address.kind() === 'ipv4' ? 4 : 6 };
    if (this.allowed.some((network) => networkContains(network, address))) {
      return { allowed: true, address: shown, family: address.kind() === 'ipv4' ? 4 : 6 };
    }
    return {
      allowed: false,
      address: shown,
      addressClass,
      reason: `${shown} is a ${addressClass} address; add its range to SNAPWIRE_ALLOWED_NETWORKS to allow it`,
    };
  }
}
