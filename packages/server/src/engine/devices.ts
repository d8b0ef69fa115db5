import { createRequire } from 'node:module';

/**
 * Device presets for viewport_device, taken from the device list playwright-core maintains (its
 * deviceDescriptors source, exported as `devices`): kept current by that project with each release, so
 * Snapwire does not hand-maintain user agents and screen sizes. Loaded on first use (the package is large).
 */
export interface DevicePreset {
  name: string;
  width: number;
  height: number;
  screenWidth: number;
  screenHeight: number;
  deviceScaleFactor: number;
  mobile: boolean;
  touch: boolean;
  userAgent: string;
}

interface PlaywrightDescriptor {
  userAgent: string;
  viewport: { width: number; height: number };
  screen?: { width: number; height: number };
  deviceScaleFactor: number;
  isMobile: boolean;
  hasTouch: boolean;
}

let presets: Map<string, DevicePreset> | undefined;

function load(): Map<string, DevicePreset> {
  if (presets) return presets;
  const require = createRequire(import.meta.url);
  const { devices } = require('playwright-core') as { devices: Record<string, PlaywrightDescriptor> };
  presets = new Map();
  for (const [name, device] of Object.entries(devices)) {
    presets.set(name.toLowerCase(), {
      name,
      width: device.viewport.width,
      height: device.viewport.height,
      screenWidth: device.screen?.width ?? device.viewport.width,
      screenHeight: device.screen?.height ?? device.viewport.height,
      deviceScaleFactor: device.deviceScaleFactor,
      mobile: device.isMobile,
      touch: device.hasTouch,
      userAgent: device.userAgent,
    });
  }
  return presets;
}

/** Every preset, in the list's own order. */
export function devicePresets(): DevicePreset[] {
  return [...load().values()];
}

/** A preset by name, case-insensitive (`iphone 15` finds `iPhone 15`). */
export function findDevice(name: string): DevicePreset | undefined {
  return load().get(name.trim().toLowerCase());
}
