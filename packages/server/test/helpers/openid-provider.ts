import { generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OpenID provider (the `oidc-provider` package) on loopback for the single sign-on tests. Its
 * sign-in screen is replaced by one that signs in `nextAccount` at once (and grants the asked scopes), so
 * a test drives the whole authorization-code flow with plain HTTP. `tamperIdToken` rewrites the ID token
 * of the next token-endpoint answer, as a man in the middle would (re-signed by the test).
 */
export interface Account {
  email: string;
  email_verified: boolean;
  name?: string;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The account the next sign-in at the provider is for. */
  nextAccount: string;
  accounts: Record<string, Account>;
  /** Rewrites the next token answer's ID token (header and claims), re-signed with `key`. */
  tamperIdToken:
    | ((token: { header: Record<string, unknown>; claims: Record<string, unknown> }) => {
        header: Record<string, unknown>;
        claims: Record<string, unknown>;
        key: KeyObject;
      })
    | undefined;
  /** The provider's own signing key (a re-signed token verifies), and a key it never published. */
  signingKey: KeyObject;
  strangerKey: KeyObject;
  close(): Promise<void>;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const unb64 = (value: string) =>
  JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Record<string, unknown>;

export function resign(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: KeyObject,
): string {
  const input = `${b64(header)}.${b64(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

export async function startOpenIdProvider(redirectUri: string): Promise<TestProvider> {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk: JsonWebKey = {
    ...pair.privateKey.export({ format: 'jwk' }),
    kid: 'test-key',
    alg: 'RS256',
    use: 'sig',
  };
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const state: TestProvider = {
    issuer,
    clientId: 'snapwire-dashboard',
    clientSecret: 'a-client-secret-for-the-tests-only',
    nextAccount: '',
    accounts: {},
    tamperIdToken: undefined,
    signingKey: pair.privateKey,
    strangerKey: stranger.privateKey,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: state.clientId,
        client_secret: state.clientSecret,
        redirect_uris: [redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ['a-cookie-key-for-the-tests-only'] },
    // The email claims go into the ID token itself (what the relying party reads).
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx: unknown, id: string) => ({
      accountId: id,
      claims: () => ({ sub: id, ...state.accounts[id] }),
    }),
  });
  const handle = provider.callback();
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    void (async () => {
      if (request.url?.startsWith('/interaction/')) {
        const details = await provider.interactionDetails(request, response);
        if (details.prompt.name === 'login') {
          await provider.interactionFinished(request, response, { login: { accountId: state.nextAccount } });
          return;
        }
        const grant = new provider.Grant({
          accountId: details.session?.accountId ?? state.nextAccount,
          clientId: String(details.params.client_id),
        });
        grant.addOIDCScope(String(details.params.scope));
        const grantId = await grant.save();
        await provider.interactionFinished(
          request,
          response,
          { consent: { grantId } },
          { mergeWithLastSubmission: true },
        );
        return;
      }
      const tamper = state.tamperIdToken;
      if (tamper && request.url?.startsWith('/token')) {
        state.tamperIdToken = undefined;
        const end = response.end.bind(response) as (chunk?: unknown) => http.ServerResponse;
        response.end = ((chunk?: unknown) => {
          const body = JSON.parse(String(chunk)) as { id_token?: string };
          if (body.id_token) {
            const [header, claims] = body.id_token.split('.');
            const changed = tamper({ header: unb64(header ?? ''), claims: unb64(claims ?? '') });
            body.id_token = resign(changed.header, changed.claims, changed.key);
          }
          const text = JSON.stringify(body);
          response.setHeader('content-length', Buffer.byteLength(text));
          return end(text);
        }) as typeof response.end;
      }
      handle(request, response);
    })().catch((error: unknown) => {
      response.statusCode = 500;
      response.end(String(error));
    });
  });
  return state;
}
