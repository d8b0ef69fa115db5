import { ApiError } from '../errors.js';
import { parseAddress } from './addresses.js';
import { ALLOW_SETTING, EgressPolicy } from './policy.js';
import type { ResolvedAddress, Resolver } from './resolver.js';

/** A host refused by the egress policy: one of its addresses is not allowed. */
export class EgressRefusedError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly addressClass: string,
    /** "a loopback address (127.0.0.0/8)" */
    readonly description: string,
    /** "an operator can allow it by adding ... to SNAPWIRE_ALLOWED_NETWORKS" */
    readonly remedy: string,
  ) {
    // For a name, the message never says which address it resolved to: that would let a user map the
    // operator's internal names (the address stays on the error, for the service's own log).
    super(
      hostname === address
        ? `${address} is ${description}, which Snapwire does not contact; ${remedy}`
        : `${hostname} resolves to ${description.startsWith('in ') ? `an address ${description}` : description}, which Snapwire does not contact; ${addressClass === 'denied' ? remedy : `an operator can allow its address (or a range holding it) in ${ALLOW_SETTING}`}`,
    );
    this.name = 'EgressRefusedError';
  }
}

export class NameResolutionError extends Error {
  constructor(
    readonly hostname: string,
    cause: unknown,
  ) {
    super(`the name ${hostname} could not be resolved`, { cause });
    this.name = 'NameResolutionError';
  }
}

/** RFC 6761: `localhost` and every name under it are loopback, whatever a resolver says. Chromium agrees. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

const LOCALHOST_ADDRESSES: ResolvedAddress[] = [
  { address: '127.0.0.1', family: 4 },
  { address: '::1', family: 6 },
];

/**
 * Resolve, check, pin: the one gate every outbound connection passes. A name is resolved once; if any of
 * its addresses is refused the whole name is refused (so a mixed answer cannot be used to sneak through);
 * the caller connects to the returned address only, never resolving again.
 */
export class EgressGuard {
  constructor(
    readonly policy: EgressPolicy,
    readonly resolver: Resolver,
  ) {}

  /** Resolves `hostname` (a name or an IP literal, brackets and a trailing dot allowed) and checks it. */
  async pin(hostname: string): Promise<ResolvedAddress> {
    const bare = hostname.replace(/^\[|\]$/g, '').replace(/\.+$/, '');
    if (!bare) throw new NameResolutionError(hostname, new Error('empty host name'));
    let addresses: ResolvedAddress[];
    const literal = parseAddress(bare);
    if (literal) {
      addresses = [{ address: literal.toString(), family: literal.kind() === 'ipv4' ? 4 : 6 }];
    } else if (isLocalhostName(bare)) {
      addresses = LOCALHOST_ADDRESSES;
    } else {
      try {
        addresses = await this.resolver.resolve(bare);
      } catch (error) {
        throw new NameResolutionError(bare, error);
      }
    }
    let pinned: ResolvedAddress | undefined;
    for (const candidate of addresses) {
      const decision = this.policy.check(candidate.address);
      if (!decision.allowed) {
        throw new EgressRefusedError(
          bare,
          decision.address,
          decision.addressClass,
          decision.description,
          decision.remedy,
        );
      }
      pinned ??= { address: decision.address, family: decision.family };
    }
    if (!pinned) throw new NameResolutionError(bare, new Error('the resolver answered no address'));
    return pinned;
  }

  /** pin() for the URL a user asked to capture, with errors from the catalogue. */
  async pinTarget(hostname: string): Promise<ResolvedAddress> {
    try {
      return await this.pin(hostname);
    } catch (error) {
      throw toApiError(error);
    }
  }
}

/** The catalogue error for a guard failure on the captured URL; anything else is returned unchanged. */
export function toApiError(error: unknown, what = 'url parameter'): unknown {
  if (error instanceof EgressRefusedError) {
    return new ApiError('ERR::SCRAPE::DOMAIN_NOT_ALLOWED', `The ${what} is refused: ${error.message}`, {
      cause: error,
    });
  }
  if (error instanceof NameResolutionError) {
    return new ApiError(
      'ERR::SCRAPE::DNS_NAME_NOT_RESOLVED',
      `The host name ${error.hostname} could not be resolved; check the spelling of the ${what}`,
      { cause: error },
    );
  }
  return error;
}
