/** The request of a log as a ready-to-copy curl command (Scrapfly's query parameters, key left as a variable). */
export function curlOf(publicUrl: string, url: string, paramsJson: string, webhookName?: string): string {
  let p: Record<string, unknown> = {};
  try {
    p = JSON.parse(paramsJson) as Record<string, unknown>;
  } catch {
    // an unreadable record still gives the URL
  }
  const query: Array<[string, string]> = [['url', url]];
  const add = (name: string, value: unknown) => {
    if (value !== undefined && value !== null && value !== '') query.push([name, String(value)]);
  };
  add('format', p.format);
  const area = (a: unknown): string | undefined => {
    const c = a as { kind?: string; selector?: string; xpath?: string } | undefined;
    if (!c?.kind) return undefined;
    return c.kind === 'selector' ? c.selector : c.kind === 'xpath' ? c.xpath : c.kind;
  };
  const capture = area(p.capture);
  if (capture && capture !== 'viewport') add('capture', capture);
  if (p.width && p.height) add('resolution', `${String(p.width)}x${String(p.height)}`);
  add('rendering_wait', p.renderingWaitMs);
  add('wait_for_selector', area(p.waitForSelector));
  add('timeout', p.timeoutMs);
  if (typeof p.js === 'string' && p.js) add('js', Buffer.from(p.js).toString('base64url'));
  if (Array.isArray(p.options) && p.options.length) add('options', p.options.join(','));
  if (p.autoScroll) add('auto_scroll', 'true');
  if (p.visionDeficiency && p.visionDeficiency !== 'none') add('vision_deficiency', p.visionDeficiency);
  add('country', p.country);
  // The stored parameters of an asynchronous job may not carry the webhook's name; the job knows it.
  add('webhook_name', p.webhookName ?? webhookName);
  const cache = p.cache as { ttlSeconds?: number; clear?: boolean } | undefined;
  if (cache) {
    add('cache', 'true');
    add('cache_ttl', cache.ttlSeconds);
    if (cache.clear) add('cache_clear', 'true');
  }
  // Snapwire extensions. Header and cookie values arrive masked (the log never holds them).
  if (p.headers && typeof p.headers === 'object') {
    for (const [name, value] of Object.entries(p.headers as Record<string, unknown>))
      add(`headers[${name}]`, value);
  }
  if (Array.isArray(p.cookies)) {
    for (const cookie of p.cookies as Array<Record<string, unknown>>) add('cookies', cookieLine(cookie));
  }
  add('viewport_device', (p.device as { name?: string } | undefined)?.name);
  add('device_scale_factor', p.deviceScaleFactor);
  add('user_agent', p.userAgent);
  if (Array.isArray(p.hideSelectors) && p.hideSelectors.length)
    add('hide_selectors', p.hideSelectors.join(','));
  add('click', area(p.click));
  if (p.omitBackground) add('omit_background', 'true');
  const pdf = p.pdf as { paper?: string; landscape?: boolean; printBackground?: boolean } | undefined;
  if (pdf) {
    add('pdf_paper', pdf.paper);
    if (pdf.landscape) add('pdf_landscape', 'true');
    if (pdf.printBackground === false) add('pdf_print_background', 'false');
  }
  add('timezone', p.timezone);
  const geo = p.geolocation as { latitude?: number; longitude?: number; accuracy?: number } | undefined;
  if (geo) add('geolocation', `${geo.latitude},${geo.longitude},${geo.accuracy}`);
  const qs = query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const extension = p.format === 'jpg' || !p.format ? 'jpg' : String(p.format);
  // Single quotes keep the shell from touching the URL; the key is spliced in from the environment.
  return `curl -o screenshot.${extension} '${publicUrl}/screenshot?key='"$SNAPWIRE_KEY"'&${qs.replace(/'/g, "'\\''")}'`;
}

function cookieLine(cookie: Record<string, unknown>): string {
  const parts = [`${String(cookie.name)}=${String(cookie.value)}`];
  if (cookie.domain) parts.push(`Domain=${String(cookie.domain)}`);
  if (cookie.path && cookie.path !== '/') parts.push(`Path=${String(cookie.path)}`);
  if (cookie.secure) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.sameSite) parts.push(`SameSite=${String(cookie.sameSite)}`);
  return parts.join('; ');
}
