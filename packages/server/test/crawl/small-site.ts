import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small site on loopback: / links to /a, /b, a page that answers 404 and a path the crawl excludes; /a
 * links to /b again; /js links to /js-only with a script only (a browser crawl finds it). `hold` keeps every page but / waiting until released (a crawl to cancel midway).
 */
export async function startSmallSite() {
  let holding = false;
  const held: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const send = (status: number, body: string) =>
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    const pages: Record<string, string> = {
      // Text past ASCII (accents, CJK, an emoji outside the BMP) travels in every event's content.
      '/': '<a href="/a">A</a> <a href="/b">B — café, 東京 ☕ 😀</a> <a href="/missing">gone</a> <a href="/private/x">x</a>',
      '/a': '<h1>Page A</h1><a href="/b">B again</a>',
      '/b': '<h1>Page B</h1>',
      '/js':
        '<h1>Scripted</h1><div id="links"></div><script>document.getElementById("links").innerHTML = \'<a href="/js-only">found by a browser</a>\';</script>',
      '/js-only': '<h1>Only a browser finds me</h1>',
    };
    const answer = () =>
      pages[path] !== undefined
        ? send(
            200,
            `<!doctype html><html><head><title>${path}</title></head><body><main>${pages[path]}<p>Some words about ${path}.</p></main></body></html>`,
          )
        : send(404, 'not here');
    if (holding && path !== '/' && path !== '/robots.txt') held.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://site.test:${port}`,
    hold: () => (holding = true),
    release: () => {
      holding = false;
      for (const answer of held.splice(0)) answer();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
