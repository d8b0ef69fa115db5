// Tool input schemas. The descriptions are written for a model choosing values: what each parameter
// does and when to use it. The service validates again and answers a catalogue error when a value is wrong.

import { z } from 'zod';
import {
  SCREENSHOT_FORMATS,
  SCREENSHOT_OPTIONS,
  VISION_DEFICIENCIES,
  type ScreenshotParams,
} from '@snapwire/sdk';

export const screenshotShape = {
  url: z
    .string()
    .min(1)
    .describe('The page to capture: a full http:// or https:// URL (https://example.com/pricing).'),
  format: z
    .enum(SCREENSHOT_FORMATS)
    .optional()
    .describe(
      'Image format. jpg (default) is smallest; png for crisp text and UI; webp for both; pdf prints the whole page as a PDF document (text kept as text; capture does not apply; see pdf_paper).',
    ),
  capture: z
    .string()
    .optional()
    .describe(
      'What to capture: "viewport" (default: what a visitor sees first), "fullpage" (the whole scrolling page), "vertical" (whole height at the viewport width), or a CSS selector / XPath of one element (e.g. "#pricing-table").',
    ),
  resolution: z
    .string()
    .regex(/^\d{3,4}x\d{3,4}$/, 'WIDTHxHEIGHT, e.g. 1280x800')
    .optional()
    .describe('Browser viewport as WIDTHxHEIGHT (default 1920x1080). Use 390x844 to see the mobile layout.'),
  rendering_wait: z
    .number()
    .int()
    .min(0)
    .max(60_000)
    .optional()
    .describe('Milliseconds to wait after the page loaded, for late content and animations (default 1000).'),
  wait_for_selector: z
    .string()
    .optional()
    .describe('CSS selector or XPath that must be visible before capturing (e.g. ".results li").'),
  timeout: z
    .number()
    .int()
    .min(1000)
    .max(120_000)
    .optional()
    .describe('Whole-request budget in milliseconds (default 60000).'),
  js: z
    .string()
    .max(16_384)
    .optional()
    .describe(
      'Plain JavaScript run in the page before the capture (body of an async function), e.g. to close a dialog or fill a form.',
    ),
  options: z
    .array(z.enum(SCREENSHOT_OPTIONS))
    .optional()
    .describe(
      'dark_mode (prefers-color-scheme: dark), print_media_format (print CSS), block_banners (hide cookie and consent pop-ups), load_images.',
    ),
  auto_scroll: z
    .boolean()
    .optional()
    .describe('Scroll to the bottom and back first, so lazy-loaded images and sections appear.'),
  vision_deficiency: z
    .enum(VISION_DEFICIENCIES)
    .optional()
    .describe('Emulate a vision deficiency, for accessibility reviews.'),
  country: z
    .string()
    .optional()
    .describe('Egress country (us, or us,ca,mx); only when the operator configured country proxies.'),
  cache: z
    .boolean()
    .optional()
    .describe('Serve a stored image of the same request when one is recent enough (free, faster).'),
  cache_ttl: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('With cache: how old (seconds) a stored image may be (default 86400).'),
  cache_clear: z.boolean().optional().describe('With cache: render anew and replace the stored image.'),
  // Snapwire extensions (README "Snapwire extensions").
  headers: z
    .record(z.string(), z.string())
    .optional()
    .describe(
      'Extra request headers as {"name": "value"}, e.g. {"authorization": "Bearer ..."} to capture a page behind a login. Sent only to the target URL\'s own origin; host, cookie and user-agent are refused (use cookies / user_agent).',
    ),
  cookies: z
    .array(z.string())
    .optional()
    .describe(
      'Cookies set before navigation, each "name=value; Domain=example.com; Path=/; Secure; HttpOnly", e.g. a session cookie. Domain may only be the target\'s host or a parent of it.',
    ),
  device_scale_factor: z
    .number()
    .min(1)
    .max(3)
    .optional()
    .describe(
      'Pixel density 1 to 3 (retina: 2). The image is resolution times this: 1280x720 with 2 gives 2560x1440.',
    ),
  viewport_device: z
    .string()
    .optional()
    .describe(
      'Emulate a device by name (e.g. "iPhone 15", "Pixel 7", "iPad Pro 11"): its viewport, pixel density, touch and user agent. resolution, device_scale_factor and user_agent override its values.',
    ),
  user_agent: z.string().max(1000).optional().describe('Override the browser user agent (one line).'),
  hide_selectors: z
    .array(z.string())
    .optional()
    .describe(
      'CSS selectors hidden before the capture, also when added later by scripts (e.g. ["#chat-widget", ".newsletter-popup"]).',
    ),
  click: z
    .string()
    .optional()
    .describe(
      'CSS selector or XPath clicked once after load (and wait_for_selector), before rendering_wait: e.g. a tab or an "accept" button.',
    ),
  omit_background: z
    .boolean()
    .optional()
    .describe('With format png or webp: a transparent background where the page paints none.'),
  pdf_paper: z
    .enum(['a3', 'a4', 'a5', 'letter', 'legal', 'tabloid'])
    .optional()
    .describe('With format pdf: the paper size (default a4).'),
  pdf_landscape: z.boolean().optional().describe('With format pdf: landscape pages.'),
  pdf_print_background: z
    .boolean()
    .optional()
    .describe('With format pdf: print background colours and images (default true).'),
  timezone: z
    .string()
    .optional()
    .describe('IANA time zone the page sees, e.g. "Europe/Paris" (for pages showing local times).'),
  geolocation: z
    .string()
    .regex(/^-?\d+(\.\d+)?,-?\d+(\.\d+)?(,\d+(\.\d+)?)?$/, 'lat,lon[,accuracy], e.g. 48.8566,2.3522')
    .optional()
    .describe(
      'Position the page sees, as "latitude,longitude[,accuracy in metres]", e.g. "48.8566,2.3522" (permission granted).',
    ),
};

export const maxWidthShape = {
  max_width: z
    .number()
    .int()
    .min(64)
    .max(7680)
    .optional()
    .describe(
      'Width in pixels the returned image is shrunk to, to fit your context (default 1280; the height is kept under 8000). The full-size original stays available at the screenshot URL in the answer.',
    ),
};

export const webhookNameShape = {
  webhook_name: z
    .string()
    .min(1)
    .describe(
      'Name of a webhook of this project (see list_webhooks) that receives the image when it is ready.',
    ),
};

type ScreenshotInput = { [K in keyof typeof screenshotShape]?: unknown } & { url: string };

/** Tool arguments -> SDK parameters (only the ones given). */
export function toScreenshotParams(input: ScreenshotInput): ScreenshotParams {
  const params: Record<string, unknown> = {};
  for (const name of Object.keys(screenshotShape)) {
    const value = (input as Record<string, unknown>)[name];
    if (value !== undefined) params[name] = value;
  }
  return params as unknown as ScreenshotParams;
}
