import nodemailer from 'nodemailer';
import type { Settings } from '../config/settings.js';
import { EgressGuard } from '../egress/guard.js';
import { operatorEndpointGuard } from '../egress/operator-endpoint.js';
import { EgressPolicy } from '../egress/policy.js';
import { SystemResolver, type Resolver } from '../egress/resolver.js';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/**
 * Invitation and reset mails through the operator's SMTP server (SNAPWIRE_SMTP_URL). It is an endpoint
 * the operator configured, so it follows the egress rules for those (egress/operator-endpoint.ts, as the
 * model endpoint does): loopback and private addresses allowed for it, the deny list and link-local
 * (metadata) refused; the name is resolved and checked at every send and the connection goes to the checked
 * address (the name kept for TLS). Bounded timeouts, so a dead server fails the send (the link is still
 * shown to who made it) instead of hanging.
 */
export function createMailer(
  settings: Pick<Settings, 'smtpUrl' | 'mailFrom' | 'allowedNetworks' | 'deniedNetworks'>,
  resolver: Resolver = new SystemResolver(),
): Mailer | undefined {
  if (!settings.smtpUrl) return undefined;
  const url = new URL(settings.smtpUrl);
  const guard = operatorEndpointGuard(
    new EgressGuard(new EgressPolicy(settings.allowedNetworks, settings.deniedNetworks), resolver),
  );
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const secure = url.protocol === 'smtps:';
  return {
    async send(mail) {
      const pinned = await guard.pin(hostname);
      const transport = nodemailer.createTransport({
        host: pinned.address,
        port: url.port ? Number(url.port) : secure ? 465 : 587,
        secure,
        tls: { servername: hostname },
        ...(url.username
          ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }
          : {}),
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 20_000,
      });
      try {
        await transport.sendMail({
          from: settings.mailFrom,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
        });
      } finally {
        transport.close();
      }
    },
  };
}
