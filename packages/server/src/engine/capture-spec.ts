/**
 * What the engine needs to take one capture: the contract between jobs/ (which parses a request into it)
 * and engine/ (which never looks at the query string, the queue or billing).
 */
import type { PdfOptions } from './pdf.js';

export const FORMATS = ['jpg', 'png', 'webp', 'gif', 'pdf'] as const;
export type ImageFormat = (typeof FORMATS)[number];

export const OPTIONS = ['load_images', 'dark_mode', 'block_banners', 'print_media_format'] as const;
export type CaptureOption = (typeof OPTIONS)[number];

export const VISION_DEFICIENCIES = [
  'none',
  'deuteranopia',
  'protanopia',
  'tritanopia',
  'achromatopsia',
  'blurredVision',
  'reducedContrast',
] as const;
export type VisionDeficiency = (typeof VISION_DEFICIENCIES)[number];

export type CaptureArea =
  | { kind: 'viewport' }
  | { kind: 'fullpage' }
  /** The whole height of the page at exactly the viewport width (fullpage also widens for wide pages). */
  | { kind: 'vertical' }
  | { kind: 'selector'; selector: string }
  | { kind: 'xpath'; xpath: string };

export interface CaptureSpec extends CaptureExtensions {
  url: string;
  hostname: string;
  format: ImageFormat;
  capture: CaptureArea;
  width: number;
  height: number;
  renderingWaitMs: number;
  waitForSelector: CaptureArea | undefined;
  timeoutMs: number;
  js: string | undefined;
  options: CaptureOption[];
  autoScroll: boolean;
  visionDeficiency: VisionDeficiency;
}

/** Snapwire's extensions (README "Snapwire extensions"), parsed by request/capture-extensions.ts. */
export interface RequestCookie {
  name: string;
  value: string;
  /** Host or parent domain of the target (never another site); undefined: a host-only cookie. */
  domain?: string;
  path: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: 'Strict' | 'Lax' | 'None';
  /** Unix seconds; undefined: a session cookie. */
  expires?: number;
}

export interface DeviceEmulation {
  name: string;
  mobile: boolean;
  touch: boolean;
  screenWidth: number;
  screenHeight: number;
}

export interface Geolocation {
  latitude: number;
  longitude: number;
  accuracy: number;
}

/** Optional fields of ScreenshotRequest (absent in jobs stored before the extensions existed). */
export interface CaptureExtensions {
  /** Extra request headers (lower-case names) sent only to the target's own origin. */
  headers?: Record<string, string>;
  cookies?: RequestCookie[];
  /** 1-3; the image is width x height times this. */
  deviceScaleFactor?: number;
  device?: DeviceEmulation;
  userAgent?: string;
  hideSelectors?: string[];
  click?: { kind: 'selector'; selector: string } | { kind: 'xpath'; xpath: string };
  omitBackground?: boolean;
  pdf?: PdfOptions;
  timezone?: string;
  geolocation?: Geolocation;
}
