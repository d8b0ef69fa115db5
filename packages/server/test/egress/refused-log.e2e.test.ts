import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFixtureServer, type FixtureServer } from '../helpers/fixture-server.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { screenshot, startService, type TestService } from '../helpers/service.js';

/** A blocked subresource is simply not loaded, and counted in the capture's monitoring log. */
describe('refused subresources are counted in the log', () => {
  let service: TestService;
  let fixtures: FixtureServer;
  let canary: Receiver;

  before(async () => {
    canary = await startReceiver('127.0.0.1');
    const canaryPort = new URL(canary.url).port;
    fixtures = await startFixtureServer({
      host: '127.0.0.2',
      routes: {
        '/with-internal-image': (_req, res) => {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
            `<html><body style="margin:0;background:#0080ff">
              <img src="http://127.0.0.1:${canaryPort}/pixel.png" width="10" height="10">
              <iframe src="http://localhost:${canaryPort}/frame" width="10" height="10"></iframe>
            </body></html>`,
          );
        },
      },
    });
    service = await startService({ SNAPWIRE_ALLOWED_NETWORKS: '127.0.0.2/32' });
  });
  after(async () => {
    await service?.close();
    await fixtures?.close();
    await canary?.close();
  });

  it('captures the page, loads nothing from the refused address, and records what it refused', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/with-internal-image`,
      rendering_wait: '300',
    });
    assert.equal(response.status, 200, await response.clone().text());
    assert.equal(canary.connections, 0, 'nothing reached 127.0.0.1');
    const { projects, logs } = service.snapwire.services;
    const project = await projects.findByName('default');
    const log = await logs.find(project!.id, response.headers.get('x-scrapfly-log-uuid')!);
    assert.equal(log?.refused_requests, 2, 'the image and the iframe were refused and counted');
    assert.deepEqual(JSON.parse(log?.refused_hosts ?? '[]').sort(), ['127.0.0.1', 'localhost']);
  });

  it('records zero for a page that asked for nothing refused', async () => {
    const response = await screenshot(service.baseUrl, {
      url: `${fixtures.origin}/solid`,
      rendering_wait: '0',
    });
    const { projects, logs } = service.snapwire.services;
    const project = await projects.findByName('default');
    const log = await logs.find(project!.id, response.headers.get('x-scrapfly-log-uuid')!);
    assert.equal(log?.refused_requests, 0);
  });
});
