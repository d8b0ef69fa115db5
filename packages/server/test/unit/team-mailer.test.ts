import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNetworkList } from '../../src/egress/networks.js';
import { StaticResolver } from '../../src/egress/resolver.js';
import { createMailer } from '../../src/team/mailer.js';

const settings = (smtpUrl: string | undefined) => ({
  smtpUrl,
  mailFrom: 'Snapwire <snapwire@localhost>',
  allowedNetworks: parseNetworkList(''),
  deniedNetworks: parseNetworkList('10.9.0.0/16'),
});
const mail = { to: 'a@example.com', subject: 's', text: 't' };

/** The SMTP server is an operator-configured endpoint: egress/operator-endpoint.ts's rules apply. */
describe('invitation mailer egress', () => {
  it('sends nothing without SNAPWIRE_SMTP_URL', () => {
    assert.equal(createMailer(settings(undefined)), undefined);
  });

  it('refuses the metadata address and the deny list before connecting', async () => {
    await assert.rejects(
      createMailer(settings('smtp://169.254.169.254:25'))!.send(mail),
      /169\.254\.169\.254 is a link-local address/,
    );
    const resolver = new StaticResolver({ 'mail.internal': '10.9.0.5' });
    await assert.rejects(
      createMailer(settings('smtp://mail.internal:25'), resolver)!.send(mail),
      /mail\.internal resolves to .*does not contact/,
    );
  });
});
