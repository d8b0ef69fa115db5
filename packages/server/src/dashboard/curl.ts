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
  const qs = query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const extension = p.format === 'jpg' || !p.format ? 'jpg' : String(p.format);
  // Single quotes keep the shell from touching the URL; the key is spliced in from the environment.
  return `curl -o screenshot.${extension} '${publicUrl}/screenshot?key='"$SNAPWIRE_KEY"'&${qs.replace(/'/g, "'\\''")}'`;
}
