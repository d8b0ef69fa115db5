/**
 * What the engine needs to take one capture: the contract between jobs/ (which parses a request into it)
 * and engine/ (which never looks at the query string, the queue or billing).
 */
export const FORMATS = ['jpg', 'png', 'webp', 'gif'] as const;
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

export interface CaptureSpec {
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
