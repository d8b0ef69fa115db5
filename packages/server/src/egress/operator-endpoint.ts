import { Agent, buildConnector, type Dispatcher } from 'undici';
import { parseAddress } from './addresses.js';
import { EgressGuard } from './guard.js';
import { parseNetworkList } from './networks.js';
import { EgressPolicy } from './policy.js';

/**
 * The egress rules for an endpoint the operator configured (the Extraction API's language model,
 * SNAPWIRE_LLM_BASE_URL), as docs/egress.md "Operator-configured endpoints" says:
 *
 * - the operator named it, and model servers usually run beside the service (Ollama on 127.0.0.1, vLLM on a
 *   private network), so loopback, private and unique-local addresses are allowed for it without opening
 *   them to captured pages;
 * - everything else follows the service's policy: the deny list (SNAPWIRE_DENIED_NETWORKS) still wins, and
 *   link-local (the cloud metadata service), multicast, reserved and documentation addresses stay refused
 *   unless SNAPWIRE_ALLOWED_NETWORKS opens them;
 * - every new connection is resolved by the service's resolver, checked and pinned, as for webhooks, so a
 *   name that rebinds is checked again; redirects are not followed (the caller asks for `redirect: manual`).
 */
const OPERATOR_LOCAL_NETWORKS = parseNetworkList(
  '127.0.0.0/8,::1/128,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7',
);

export function operatorEndpointGuard(serviceGuard: EgressGuard): EgressGuard {
  const { policy } = serviceGuard;
  return new EgressGuard(
    new EgressPolicy([...policy.networks.allowed, ...OPERATOR_LOCAL_NETWORKS], policy.networks.denied),
    serviceGuard.resolver,
  );
}

/** An undici dispatcher whose every connection goes to an address `guard` checked (the URL's name kept for TLS). */
export function pinnedDispatcher(guard: EgressGuard): Dispatcher {
  const connector = buildConnector({});
  return new Agent({
    connect: (options, callback) => {
      guard.pin(options.hostname).then(
        (pinned) => {
          const byName = !parseAddress(options.hostname.replace(/^\[|\]$/g, ''));
          connector(
            { ...options, hostname: pinned.address, ...(byName ? { servername: options.hostname } : {}) },
            callback,
          );
        },
        (error: Error) => callback(error, null),
      );
    },
  });
}
