import * as oidc from 'openid-client';
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import type { OidcSettings } from '../config/settings.js';
import { EgressRefusedError, NameResolutionError } from '../egress/guard.js';

/**
 * OpenID Connect single sign-on for the dashboard (docs/dashboard.md "Single sign-on"), as a relying party
 * built on `openid-client`: the authorization-code flow with PKCE (S256), `state` and `nonce`. The ID token's
 * signature is checked against the provider's published keys (enableNonRepudiationChecks: by default a
 * token from the token endpoint is trusted on TLS alone), its issuer, audience, expiry and nonce by the
 * library. The provider is an endpoint the operator configured, so every call to it goes through the
 * egress guard's operator-endpoint rules (egress/operator-endpoint.ts), as the language model's do.
 */

/** A refused single sign-on: `message` is shown to the user and audited; never a token or a secret. */
export class SingleSignOnError extends Error {
  constructor(
    message: string,
    /** A short reason for the audit row's facts. */
    readonly reason: string,
    /** The email the provider asserted, when it got that far (the audit row's actor). */
    readonly email?: string,
  ) {
    super(message);
  }
}

/** What a browser keeps between the redirect to the provider and its answer (an HttpOnly cookie). */
export interface PendingSignOn {
  state: string;
  nonce: string;
  codeVerifier: string;
  next: string;
}

/** The identity the provider vouched for. */
export interface VerifiedIdentity {
  /** As the provider sent it (matched to users without case). */
  email: string;
  name: string | undefined;
  subject: string;
}

export const CALLBACK_PATH = '/dashboard/sso/callback';

export class SingleSignOn {
  private configuration: Promise<oidc.Configuration> | undefined;
  readonly redirectUri: string;

  constructor(
    readonly settings: OidcSettings,
    publicUrl: string,
    private readonly dispatcher: Dispatcher,
  ) {
    this.redirectUri = `${publicUrl}${CALLBACK_PATH}`;
  }

  /** Where to send the browser, and what to keep for the answer. */
  async start(next: string): Promise<{ url: string; pending: PendingSignOn }> {
    const config = await this.config();
    const pending: PendingSignOn = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      codeVerifier: oidc.randomPKCECodeVerifier(),
      next,
    };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: 'openid email profile',
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** Checks the provider's answer (the callback's query string) and returns the verified identity. */
  async finish(query: string, pending: PendingSignOn | undefined): Promise<VerifiedIdentity> {
    if (!pending) {
      throw new SingleSignOnError(
        'This sign-in was not started in this browser, or took longer than 10 minutes: start again with "Sign in with SSO".',
        'no pending sign-in',
      );
    }
    const answer = new URLSearchParams(query);
    if (answer.get('error')) {
      // The provider refused (the user cancelled, or the client is not allowed): its words, bounded.
      const said = `${answer.get('error')}${answer.get('error_description') ? `: ${answer.get('error_description')}` : ''}`;
      throw new SingleSignOnError(
        `The sign-in provider refused the sign-in (${said.slice(0, 200)}).`,
        'provider error',
      );
    }
    if (answer.get('state') !== pending.state) {
      throw new SingleSignOnError(
        'The answer does not belong to the sign-in this browser started (state mismatch): start again with "Sign in with SSO".',
        'state mismatch',
      );
    }
    const config = await this.config();
    const currentUrl = new URL(this.redirectUri);
    currentUrl.search = query;
    let claims: oidc.IDToken | undefined;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      throw explain(error);
    }
    if (!claims) throw new SingleSignOnError('The sign-in provider sent no ID token.', 'no id token');
    const email = typeof claims.email === 'string' ? claims.email.trim() : '';
    if (!email) {
      throw new SingleSignOnError(
        'The sign-in provider did not send your email (the client needs the "email" scope): ask your operator.',
        'no email',
      );
    }
    // An unverified email proves nothing about who owns it: matching it would let anyone claim a member's
    // address at a provider that lets users type one.
    if (claims.email_verified !== true) {
      throw new SingleSignOnError(
        `The sign-in provider does not say the email ${email} is verified: verify it there, then sign in again.`,
        'email not verified',
        email,
      );
    }
    return {
      email,
      name: typeof claims.name === 'string' ? claims.name : undefined,
      subject: claims.sub,
    };
  }

  /** The provider's metadata, discovered once (again after a failure, so a provider down at start recovers). */
  private config(): Promise<oidc.Configuration> {
    this.configuration ??= this.discover().catch((error: unknown) => {
      this.configuration = undefined;
      throw explain(error);
    });
    return this.configuration;
  }

  private async discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.settings.issuer);
    const customFetch: oidc.CustomFetch = async (url, options) =>
      (await undiciFetch(url, {
        method: options.method,
        headers: options.headers,
        body: options.body as string | undefined,
        redirect: 'manual',
        signal: options.signal ?? AbortSignal.timeout(15_000),
        dispatcher: this.dispatcher,
      })) as unknown as Response;
    const config = await oidc.discovery(
      issuer,
      this.settings.clientId,
      undefined,
      oidc.ClientSecretPost(this.settings.clientSecret),
      {
        [oidc.customFetch]: customFetch,
        timeout: 15,
        // Plain http only for a provider on loopback (settings.ts refuses it elsewhere).
        ...(issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
      },
    );
    oidc.enableNonRepudiationChecks(config);
    return config;
  }
}

/** Turns the library's error into what the user is told (and the audit row's reason). */
function explain(error: unknown): SingleSignOnError {
  if (error instanceof SingleSignOnError) return error;
  // openid-client wraps oauth4webapi's error (which names the claim) in a generic one: read the chain.
  const chain: unknown[] = [];
  for (let link: unknown = error; link !== undefined && chain.length < 5;) {
    chain.push(link);
    link = link instanceof Error ? link.cause : undefined;
  }
  if (chain.some((link) => link instanceof EgressRefusedError || link instanceof NameResolutionError)) {
    return new SingleSignOnError(
      'The sign-in provider is refused by the egress guard (the service log says why): ask your operator.',
      'egress refused',
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  const text = chain.map((link) => (link instanceof Error ? link.message : String(link))).join(' | ');
  if (/signature/i.test(text)) {
    return new SingleSignOnError(
      "The ID token's signature does not verify with the sign-in provider's published keys: the answer was refused.",
      'bad signature',
    );
  }
  if (/"nonce"/.test(text)) {
    return new SingleSignOnError(
      'The ID token was not issued for this sign-in (nonce mismatch): start again with "Sign in with SSO".',
      'nonce mismatch',
    );
  }
  if (/"aud"|audience/i.test(text)) {
    return new SingleSignOnError(
      "The ID token was issued for another client (its audience is not this dashboard's client id): the answer was refused.",
      'wrong audience',
    );
  }
  if (/"iss"|issuer/i.test(text)) {
    return new SingleSignOnError(
      'The answer comes from another issuer than SNAPWIRE_OIDC_ISSUER: the answer was refused.',
      'wrong issuer',
    );
  }
  if (/"state"/.test(text)) {
    return new SingleSignOnError(
      'The answer does not belong to the sign-in this browser started (state mismatch): start again with "Sign in with SSO".',
      'state mismatch',
    );
  }
  if (/fetch failed|ECONNREFUSED|timed? ?out|aborted/i.test(text)) {
    return new SingleSignOnError(
      'The sign-in provider could not be reached: try again later, or sign in with your password.',
      'provider unreachable',
    );
  }
  return new SingleSignOnError(
    `The sign-in provider's answer was refused (${message.slice(0, 200)}).`,
    'refused answer',
  );
}

/** The pending sign-in as a cookie value, and back (anything malformed is no pending sign-in). */
export function encodePending(pending: PendingSignOn): string {
  return Buffer.from(JSON.stringify(pending)).toString('base64url');
}

export function decodePending(value: string | undefined): PendingSignOn | undefined {
  if (!value || value.length > 4096) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<PendingSignOn>;
    const fields = [parsed.state, parsed.nonce, parsed.codeVerifier, parsed.next];
    if (!fields.every((field) => typeof field === 'string' && field.length > 0)) return undefined;
    return parsed as PendingSignOn;
  } catch {
    return undefined;
  }
}
