import dns from 'node:dns';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Turns a host name into addresses. The service is given one: the system resolver in production, a
 * static map in tests (which therefore never send a DNS query for a name that is not on this machine).
 */
export interface Resolver {
  /** Resolves to at least one address, or throws an error whose `code` is ENOTFOUND. */
  resolve(hostname: string): Promise<ResolvedAddress[]>;
}

export class SystemResolver implements Resolver {
  async resolve(hostname: string): Promise<ResolvedAddress[]> {
    const results = await dns.promises.lookup(hostname, { all: true, verbatim: true });
    return results.map((result) => ({ address: result.address, family: result.family === 6 ? 6 : 4 }));
  }
}

export class NameNotFoundError extends Error {
  readonly code = 'ENOTFOUND';
  constructor(hostname: string) {
    super(`getaddrinfo ENOTFOUND ${hostname}`);
  }
}

/**
 * A resolver that answers only from its table. A name may have a list of answers used in turn (the last
 * one repeats), which is how tests play DNS rebinding. Unknown names are not found.
 */
export class StaticResolver implements Resolver {
  private readonly answers = new Map<string, string[][]>();
  private readonly asked = new Map<string, number>();

  constructor(table: Record<string, string | string[] | string[][]> = {}) {
    for (const [name, value] of Object.entries(table)) this.set(name, value);
  }

  set(name: string, value: string | string[] | string[][]): void {
    const sequence =
      typeof value === 'string'
        ? [[value]]
        : Array.isArray(value[0])
          ? (value as string[][])
          : [value as string[]];
    this.answers.set(name.toLowerCase(), sequence);
  }

  async resolve(hostname: string): Promise<ResolvedAddress[]> {
    const name = hostname.toLowerCase().replace(/\.$/, '');
    const sequence = this.answers.get(name);
    if (!sequence) throw new NameNotFoundError(hostname);
    const count = this.asked.get(name) ?? 0;
    this.asked.set(name, count + 1);
    const answer = sequence[Math.min(count, sequence.length - 1)] ?? [];
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  }
}
