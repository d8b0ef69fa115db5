import { ApiError } from '../errors.js';
import { isIpLiteral } from './addresses.js';
import { EgressPolicy } from './policy.js';
import type { ResolvedAddress, Resolver } from './resolver.js';

export class EgressRefusedError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly addressClass: string,
    reason: string,
  ) {
    super(reason);
  }
}

export class NameResolutionError extends Error {
  constructor(
    readonly hostname: string,
    cause: unknown,
  ) {
    super(`the name ${hostname} could not be resolved`, { cause });
  }
}

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

  async pin(hostname: string): Promise<ResolvedAddress> {
    const bare = hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '');
    let addresses: ResolvedAddress[];
    if (isIpLiteral(bare)) {
      addresses = [{ address: bare, family: bare.includes(':') ? 6 : 4 }];
    } else {
      try {
        addresses = await this.resolver.resolve(bare);
      } catch (error) {
        throw new NameResolutionError(bare, error);
      }
      if (addresses.length === 0) throw new NameResolutionError(bare, new Error('no addresses'));
    }
    let pinned: ResolvedAddress | undefined;
    for (const candidate of addresses) {
      const decision = this.policy.check(candidate.address);
      if (!decision.allowed) {
        throw new EgressRefusedError(bare, decision.address, decision.addressClass, decision.reason);
      }
      pinned ??= { address: decision.address, family: decision.family };
    }
    if (!pinned) throw new NameResolutionError(bare, new Error('no addresses'));
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

export function toApiError(error: unknown): unknown {
  if (error instanceof EgressRefusedError) {
    return new ApiError(
      'ERR::SCRAPE::DOMAIN_NOT_ALLOWED',
      `${error.hostname} resolves to ${error.address}, a ${error.addressClass} address, which Snapwire does not contact by default; an operator can allow its range with SNAPWIRE_ALLOWED_NETWORKS`,
    );
  }
  if (error instanceof NameResolutionError) {
    return new ApiError(
      'ERR::SCRAPE::DNS_NAME_NOT_RESOLVED',
      `The host name ${error.hostname} could not be resolved; check the spelling of the url parameter`,
    );
  }
  return error;
}
