import { ApiError } from '../errors.js';
import type { CaptureSpec } from './capture-spec.js';
import type { PageHandle } from './browser.js';
import type { CdpSession } from './cdp.js';

/**
 * What a page is set up with before it navigates: viewport and device emulation, user agent, time zone,
 * geolocation, transparent background, hidden selectors, cookies, and the request interception that adds
 * the request's headers on the target's own origin (and blocks images when asked).
 */
export function setUpPage(
  page: PageHandle,
  request: CaptureSpec,
  options: { blockImages: boolean },
): Promise<unknown>[] {
  const session = page.session;
  const device = request.device;
  const steps: Promise<unknown>[] = [
    session.send('Emulation.setDeviceMetricsOverride', {
      width: request.width,
      height: request.height,
      deviceScaleFactor: request.deviceScaleFactor ?? 1,
      mobile: device?.mobile ?? false,
      ...(device ? { screenWidth: device.screenWidth, screenHeight: device.screenHeight } : {}),
    }),
  ];
  if (device?.touch) {
    steps.push(session.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 5 }));
  }
  if (request.userAgent !== undefined) {
    steps.push(session.send('Emulation.setUserAgentOverride', { userAgent: request.userAgent }));
  }
  if (request.timezone !== undefined) {
    steps.push(
      session
        .send('Emulation.setTimezoneOverride', { timezoneId: request.timezone })
        .catch((error: unknown) => {
          throw new ApiError(
            'ERR::SCRAPE::CONFIG_ERROR',
            `The browser cannot emulate timezone=${request.timezone} (${(error as Error).message}); use an IANA zone such as Europe/Paris`,
          );
        }),
    );
  }
  if (request.geolocation !== undefined) {
    steps.push(
      session.send('Emulation.setGeolocationOverride', { ...request.geolocation }),
      // The page may ask for the position without a prompt (there is nobody to answer one).
      page.browser.grantPermissions(page.browserContextId, ['geolocation']),
    );
  }
  if (request.omitBackground) {
    steps.push(
      session.send('Emulation.setDefaultBackgroundColorOverride', { color: { r: 0, g: 0, b: 0, a: 0 } }),
    );
  }
  if (request.hideSelectors?.length) {
    steps.push(
      session.send('Page.addScriptToEvaluateOnNewDocument', { source: hideScript(request.hideSelectors) }),
    );
  }
  if (request.cookies?.length) steps.push(setCookies(session, request));
  const interception = interceptRequests(session, request, options.blockImages);
  if (interception) steps.push(interception);
  return steps;
}

/**
 * A constructed style sheet adopted by the document from its very start: the rules hide matching elements
 * whenever they appear (scripts may add them later). One rule per selector, so one selector the browser
 * does not understand does not void the others.
 */
export function hideScript(selectors: readonly string[]): string {
  return `(() => {
  const selectors = ${JSON.stringify(selectors)};
  const sheet = new CSSStyleSheet();
  for (const selector of selectors) {
    try { sheet.insertRule(selector + ' { display: none !important; }', sheet.cssRules.length); } catch {}
  }
  const adopt = () => {
    if (!document.adoptedStyleSheets.includes(sheet)) document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  };
  adopt();
  // A page that replaces adoptedStyleSheets wholesale would drop it: adopt it again once the DOM is in.
  document.addEventListener('DOMContentLoaded', adopt, { once: true });
})();`;
}

/**
 * Checked in our isolated world before the capture: every selector must parse and make a rule
 * (DOM_SELECTOR_INVALID otherwise; engine/selector-check.ts refused such selectors before navigation
 * already), and the rules are adopted again there in case the page dropped the first sheet.
 */
export function ensureHiddenExpression(selectors: readonly string[]): string {
  return `(() => {
  const selectors = ${JSON.stringify(selectors)};
  const sheet = new CSSStyleSheet();
  const unmatched = [];
  for (const selector of selectors) {
    try {
      if (document.querySelector(selector) === null) unmatched.push(selector);
      sheet.insertRule(selector + ' { display: none !important; }', sheet.cssRules.length);
    } catch (error) {
      return { invalid: selector, unmatched };
    }
  }
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  return { invalid: null, unmatched };
})()`;
}

async function setCookies(session: CdpSession, request: CaptureSpec): Promise<void> {
  for (const cookie of request.cookies ?? []) {
    const result = await session
      .send<{ success?: boolean }>('Network.setCookie', {
        name: cookie.name,
        value: cookie.value,
        // url scopes a host-only cookie to the target's host; a Domain (checked: the target's host or a
        // parent domain of it) widens it to that domain's hosts, as in a browser.
        url: request.url,
        ...(cookie.domain ? { domain: `.${cookie.domain}` } : {}),
        path: cookie.path,
        secure: cookie.secure,
        httpOnly: cookie.httpOnly,
        ...(cookie.sameSite ? { sameSite: cookie.sameSite } : {}),
        ...(cookie.expires !== undefined ? { expires: cookie.expires } : {}),
      })
      .catch((error: unknown) => ({ success: false, error: error as Error }));
    if (result.success === false) {
      throw new ApiError(
        'ERR::SCRAPE::CONFIG_ERROR',
        `The browser refused the cookie "${cookie.name}" for ${request.url} (a Secure cookie needs an https target; a Domain must not be a public suffix)`,
      );
    }
  }
}

/**
 * Extra headers and cookies reach the target's own origin only. Every request is paused (Fetch domain,
 * request stage): the extra header names are taken out of what the browser would send and put back with
 * the request's values only when the request's origin is the target's; on any other origin our cookies
 * are taken out of the Cookie header the browser attached (a cookie's own rules would still let it go to
 * another port of the same host, or to a sibling host under its Domain). Chromium does not carry
 * overridden headers over a redirect, and each hop is paused anew, so a redirect elsewhere goes without.
 */
function interceptRequests(
  session: CdpSession,
  request: CaptureSpec,
  blockImages: boolean,
): Promise<unknown> | undefined {
  const extra = request.headers && Object.keys(request.headers).length > 0 ? request.headers : undefined;
  const cookies = new Map((request.cookies ?? []).map((cookie) => [cookie.name, cookie.value]));
  const rewrite = extra !== undefined || cookies.size > 0;
  if (!rewrite && !blockImages) return undefined;
  const targetOrigin = new URL(request.url).origin;
  const names = new Set(Object.keys(extra ?? {}));
  session.on(
    'Fetch.requestPaused',
    (event: {
      requestId: string;
      resourceType: string;
      request: { url: string; headers: Record<string, string> };
    }) => {
      if (blockImages && event.resourceType === 'Image') {
        session
          .send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'BlockedByClient' })
          .catch(() => {});
        return;
      }
      if (!rewrite) {
        session.send('Fetch.continueRequest', { requestId: event.requestId }).catch(() => {});
        return;
      }
      const own = originOf(event.request.url) === targetOrigin;
      const headers: Array<{ name: string; value: string }> = [];
      for (const [name, value] of Object.entries(event.request.headers)) {
        const lower = name.toLowerCase();
        if (names.has(lower)) continue;
        if (lower === 'cookie' && !own) {
          // Sent even when nothing is kept: a request continued without a Cookie header gets the cookie
          // jar's cookies attached again, ours included (an empty header is what keeps them off).
          headers.push({ name, value: withoutOurCookies(value, cookies) });
          continue;
        }
        headers.push({ name, value });
      }
      if (own && extra) for (const [name, value] of Object.entries(extra)) headers.push({ name, value });
      session.send('Fetch.continueRequest', { requestId: event.requestId, headers }).catch(() => {});
    },
  );
  return session.send('Fetch.enable', {
    patterns: rewrite
      ? [{ urlPattern: '*', requestStage: 'Request' }]
      : [{ urlPattern: '*', resourceType: 'Image', requestStage: 'Request' }],
  });
}

/** A Cookie header without the pairs the request set (same name and value); the page's own stay. */
export function withoutOurCookies(header: string, ours: ReadonlyMap<string, string>): string {
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => {
      const at = pair.indexOf('=');
      const name = at < 0 ? pair : pair.slice(0, at);
      return !(ours.has(name) && ours.get(name) === pair.slice(at + 1));
    })
    .filter(Boolean)
    .join('; ');
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
