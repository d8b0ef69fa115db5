import os from 'node:os';

export interface BoundAddress {
  address: string;
  family: string;
  port: number;
}

/**
 * The URLs the server can really be reached at: a wildcard bind (0.0.0.0 or ::) is expanded into the
 * machine's interface addresses, so the banner never claims `localhost` alone while listening everywhere.
 */
export function reachableUrls(
  bound: BoundAddress[],
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): string[] {
  const all = Object.values(interfaces).flatMap((list) => list ?? []);
  const urls = new Set<string>();
  for (const { address, port } of bound) {
    const wildcardV4 = address === '0.0.0.0';
    const wildcardV6 = address === '::';
    const expanded =
      wildcardV4 || wildcardV6
        ? all
            .filter((info) => info.family === 'IPv4' || (wildcardV6 && info.family === 'IPv6'))
            .filter((info) => !info.address.startsWith('fe80:'))
            .map((info) => info.address)
        : [address];
    for (const host of expanded) urls.add(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
  }
  return [...urls];
}
