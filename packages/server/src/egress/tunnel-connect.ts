import net from 'node:net';
import tls from 'node:tls';

/** The proxy would not open the tunnel: its status line (a guard refusal is a 403 with a verdict). */
export class TunnelRefusedError extends Error {
  readonly code = 'TUNNEL_REFUSED';
  constructor(
    readonly status: number,
    readonly statusLine: string,
  ) {
    super(`the country egress proxy did not open the tunnel: ${statusLine}`);
  }
}

const MAX_ANSWER_HEAD_BYTES = 16 * 1024;

/**
 * A connection to `authority` (an address:port the guard checked) through an HTTP proxy's CONNECT tunnel,
 * wrapped in TLS when `tls` is given: what a request without a browser uses to leave by a country's
 * egress proxy (egress/country-proxy.ts, whose loopback listener checks and pins again before it asks the
 * operator's upstream). Hand-written because undici's ProxyAgent cannot be told the address to tunnel
 * to (it tunnels to the URL's name, which the proxy would resolve again) and the guarded client keeps its
 * own pools per checked address.
 */
export function connectThroughProxy(
  proxyServer: string,
  authority: string,
  options: { tls?: { servername?: string; ca?: tls.SecureContextOptions['ca'] }; timeoutMs: number },
): Promise<net.Socket> {
  const proxy = new URL(proxyServer);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(proxy.port || 80), proxy.hostname);
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(options.timeoutMs, () =>
      fail(
        Object.assign(new Error('the country egress proxy did not answer in time'), { code: 'ETIMEDOUT' }),
      ),
    );
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    });
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_ANSWER_HEAD_BYTES)
          fail(new Error('the country egress proxy answered no HTTP head'));
        return;
      }
      socket.off('data', onData);
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
      if (status !== 200) return fail(new TunnelRefusedError(status, statusLine));
      // Bytes after the head belong to the tunnel (a server that speaks first): give them back.
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      socket.setTimeout(0);
      socket.off('error', fail);
      settled = true;
      if (!options.tls) return resolve(socket);
      const secure = tls.connect({
        socket,
        ...(options.tls.servername ? { servername: options.tls.servername } : {}),
        ...(options.tls.ca !== undefined ? { ca: options.tls.ca } : {}),
        ALPNProtocols: ['http/1.1'],
      });
      secure.once('secureConnect', () => resolve(secure));
      secure.once('error', (error) => {
        secure.destroy();
        reject(error);
      });
    };
    socket.on('data', onData);
  });
}
