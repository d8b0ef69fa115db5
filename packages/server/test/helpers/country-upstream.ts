import http from 'node:http';
import net from 'node:net';

/**
 * A stand-in for an operator's upstream proxy in one country: it answers CONNECT, records the authority
 * it was asked for, and connects every tunnel to its own "local site" (a page of its own colour), so the
 * colour of the capture proves which country's proxy carried it.
 */
export async function startUpstream(
  color: readonly [number, number, number],
): Promise<{ url: string; asked: string[]; close: () => Promise<void> }> {
  const page = `<html><body style="margin:0;background:rgb(${color.join(',')})">local</body></html>`;
  const site = http.createServer((req, res) => {
    if (req.url?.startsWith('/to-metadata')) {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' }).end(page);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  const sitePort = (site.address() as net.AddressInfo).port;
  const asked: string[] = [];
  const sockets = new Set<net.Socket>();
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket) => {
    asked.push(req.url ?? '');
    const upstream = net.connect(sitePort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  for (const server of [site, proxy]) {
    server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  }
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
    asked,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await Promise.all(
        [site, proxy].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
      );
    },
  };
}
