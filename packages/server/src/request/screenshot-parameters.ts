import { z } from 'zod';
import { PDF_PAPER_NAMES } from '../engine/pdf.js';
import { FORMATS, OPTIONS, VISION_DEFICIENCIES } from './screenshot-request.js';

/**
 * Every parameter of GET /screenshot with what it does: the route's query schema and the dashboard
 * playground's list of fields both read it, so a parameter added here shows up in both. Every parameter is a
 * plain optional string here; parseScreenshotRequest does the real validation so that each mistake gets a
 * catalogue error whose reason says what to fix.
 */
const text = (description: string) => z.string().optional().describe(description);

export const screenshotQuery = z.object({
  key: z.string().describe('Project API key (LIVE or TEST)'),
  url: z.string().describe('Page to capture, url-encoded; http or https only'),
  format: text(`Image format: ${FORMATS.join(', ')} (default jpg)`),
  capture: text(
    'viewport (default), fullpage (whole page, stitched past 16,384 px), vertical (whole height at the viewport width), a CSS selector, or an XPath (starting with / or xpath=)',
  ),
  resolution: text('Viewport size WIDTHxHEIGHT (default 1920x1080)'),
  country: text(
    'Egress country through an operator-configured upstream proxy: us, us,ca,mx (random pick), -gb (exclude), us:10,gb:5 (weighted)',
  ),
  timeout: text('Whole-request budget in ms (default 60000)'),
  rendering_wait: text('Wait after load before capturing, in ms (default 1000)'),
  wait_for_selector: text('CSS selector or XPath to wait for (visible) before capturing'),
  options: text(`Comma list of: ${OPTIONS.join(', ')}`),
  auto_scroll: text('true to scroll to the bottom (lazy content) and back before capturing'),
  js: text('JavaScript to run in the page before capturing, base64url (padding optional), max 16 KB'),
  cache: text(
    'true serves a stored image of the same request within cache_ttl, at no cost (X-Scrapfly-Cache-Status)',
  ),
  cache_ttl: text('Seconds a cached image may be served (default 86400; only with cache=true)'),
  cache_clear: text('true renders anew and replaces the cached image (only with cache=true)'),
  vision_deficiency: text(`Emulated vision deficiency: ${VISION_DEFICIENCIES.join(', ')}`),
  webhook_name: text('Name of a webhook of this project and environment: makes the call asynchronous'),
  // Snapwire extensions (README "Snapwire extensions"); headers[NAME] is described on the route.
  cookies: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe(
      'Cookie set before navigation, repeatable: name=value; Domain=...; Path=...; Secure; HttpOnly; SameSite=...; Max-Age=... (Domain: the target host or a parent domain of it only)',
    ),
  device_scale_factor: text('Pixel density 1-3, decimals allowed: 1280x720 at 2 gives a 2560x1440 image'),
  viewport_device: text(
    'Device preset (GET /devices): its viewport, scale, touch, mobile flag and user agent; resolution, device_scale_factor and user_agent override its values',
  ),
  user_agent: text("Overrides the browser's user agent"),
  hide_selectors: text(
    'Comma list of CSS selectors hidden (display:none !important) before the capture, elements added later included',
  ),
  click: text(
    'CSS selector or XPath clicked once after load (after wait_for_selector), before rendering_wait',
  ),
  omit_background: text('true: transparent background where the page paints none (format png or webp)'),
  pdf_paper: text(`Paper of format=pdf: ${PDF_PAPER_NAMES.join(', ')} (default a4)`),
  pdf_landscape: text('true prints format=pdf in landscape'),
  pdf_print_background: text('false leaves background colours and images out of format=pdf (default true)'),
  timezone: text('IANA time zone emulated for the page, for example Europe/Paris'),
  geolocation: text('Position emulated for the page: latitude,longitude[,accuracy in metres]'),
});
