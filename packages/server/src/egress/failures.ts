import { EgressRefusedError, NameResolutionError } from './guard.js';
import type { EgressFailureKind } from './verdicts.js';

export interface EgressFailure {
  kind: EgressFailureKind;
  hostname: string;
  /** The URL (plain http) or authority (CONNECT) that was asked for. */
  target: string;
  reason: string;
  /** For DOMAIN_NOT_ALLOWED: the class of the refused address (loopback, private, ..., denied). */
  addressClass?: string;
  at: number;
}

/** Failures kept per listener (the count goes on; only the list is bounded). */
const MAX_FAILURES_KEPT = 200;

/**
 * The failure an error of the guard or of a connection stands for. `networkReason` words a connection
 * error (the guard's own errors carry their reason).
 */
export function failureOf(
  error: unknown,
  hostname: string,
  target: string,
  networkReason: (error: unknown) => string,
): EgressFailure {
  const at = Date.now();
  if (error instanceof EgressRefusedError) {
    const failure: EgressFailure = {
      kind: 'DOMAIN_NOT_ALLOWED',
      hostname,
      target,
      reason: error.message,
      at,
    };
    if (error.addressClass !== undefined) failure.addressClass = error.addressClass;
    return failure;
  }
  if (error instanceof NameResolutionError)
    return { kind: 'DNS_NAME_NOT_RESOLVED', hostname, target, reason: error.message, at };
  return { kind: 'NETWORK_ERROR', hostname, target, reason: networkReason(error), at };
}

/** Counts and remembers the failures of one listener (and passes them up to the whole proxy). */
export class Recorder {
  refusedCount = 0;
  readonly failures: EgressFailure[] = [];
  last: EgressFailure | undefined;
  private readonly byHost = new Map<string, EgressFailure>();

  constructor(private readonly parent?: Recorder) {}

  add(failure: EgressFailure): void {
    if (failure.kind === 'DOMAIN_NOT_ALLOWED') this.refusedCount += 1;
    this.last = failure;
    if (this.failures.length < MAX_FAILURES_KEPT) this.failures.push(failure);
    const key = failure.hostname.toLowerCase();
    this.byHost.delete(key);
    this.byHost.set(key, failure);
    if (this.byHost.size > 1000) {
      const oldest = this.byHost.keys().next().value;
      if (oldest !== undefined) this.byHost.delete(oldest);
    }
    this.parent?.add(failure);
  }

  failureFor(hostname: string, maxAgeMs = 60_000): EgressFailure | undefined {
    const failure = this.byHost.get(
      hostname
        .toLowerCase()
        .replace(/^\[|\]$/g, '')
        .replace(/\.+$/, ''),
    );
    return failure && Date.now() - failure.at < maxAgeMs ? failure : undefined;
  }
}
