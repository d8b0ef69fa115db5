import fs from 'node:fs';
import path from 'node:path';

/** Flags that work on this kind of machine: no sandbox as root, no GPU, no background traffic. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // WebRTC's UDP (STUN/TURN) would not go through the egress proxy: only proxied (TCP) media is allowed.
  '--webrtc-ip-handling-policy=disable_non_proxied_udp',
  '--disable-extensions',
  '--disable-default-apps',
  '--no-default-browser-check',
  '--hide-scrollbars',
  '--mute-audio',
  '--force-color-profile=srgb',
  '--password-store=basic',
  '--use-mock-keychain',
  // Pages are never in the background here: timers and rendering run at full speed in every tab.
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  '--disable-renderer-backgrounding',
  '--disable-hang-monitor',
  '--disable-ipc-flooding-protection',
  '--disable-breakpad',
  '--metrics-recording-only',
];

/**
 * Chromium features turned off (one --disable-features switch: Chromium keeps only the last one given).
 * The first five matter most, measured on 2 cores: the new headless mode is the full browser, and every
 * isolated context opens a window whose omnibox pre-loads its WebUI pop-ups (chrome://omnibox-popup.top-chrome,
 * an extra renderer per window). Off, a capture costs ~330 ms of CPU instead of ~730 ms.
 */
export const DISABLED_FEATURES = [
  'WebUIOmniboxPopup',
  'WebUIOmniboxAimPopup',
  'WebUIOmniboxFullPopup',
  'PreloadTopChromeWebUI',
  'AimEnabled',
  'Translate',
  'MediaRouter',
  'OptimizationHints',
  'InterestFeedContentSuggestions',
  'CalculateNativeWinOcclusion',
  'AutofillServerCommunication',
  'CertificateTransparencyComponentUpdater',
  'DestroyProfileOnBrowserClose',
  'HttpsUpgrades',
  'LensOverlay',
];

/** Merges repeated --disable-features / --enable-features switches (Chromium would keep only the last). */
export function mergeFeatureSwitches(args: string[]): string[] {
  const merged: Record<string, string[]> = { '--disable-features': [], '--enable-features': [] };
  const rest: string[] = [];
  for (const arg of args) {
    const [name, value] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const list = merged[name];
    if (list && value !== undefined) list.push(...value.split(',').filter(Boolean));
    else rest.push(arg);
  }
  for (const [name, list] of Object.entries(merged)) {
    if (list.length > 0) rest.push(`${name}=${[...new Set(list)].join(',')}`);
  }
  return rest;
}

/** What a pool's browsers are launched with besides the fixed flags (BrowserPoolOptions). */
export interface LaunchOptions {
  proxyServer: string;
  strictSiteIsolation: boolean;
  rendererMaxHeapMb: number;
  extraArgs: string[];
}

/** Flags of every browser a pool launches. The last three are the egress guarantees. */
export function chromiumArgs(options: LaunchOptions): string[] {
  return mergeFeatureSwitches([
    ...CHROMIUM_FLAGS,
    `--disable-features=${DISABLED_FEATURES.join(',')}`,
    ...(options.strictSiteIsolation
      ? []
      : ['--disable-site-isolation-trials', '--disable-features=site-per-process,IsolateOrigins']),
    ...(devShmIsSmall() ? ['--disable-dev-shm-usage'] : []),
    `--js-flags=--max-old-space-size=${options.rendererMaxHeapMb}`,
    ...options.extraArgs,
    `--proxy-server=${options.proxyServer}`,
    // Send loopback through the proxy too (Chromium bypasses it for localhost by default) ...
    '--proxy-bypass-list=<-loopback>',
    // ... and never resolve a name itself: the proxy resolves, checks and pins every address.
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  ]);
}

/** Debian's wrapper moves shared memory to /tmp when /dev/shm is small (Docker's default is 64 MB). */
function devShmIsSmall(): boolean {
  try {
    const stats = fs.statfsSync('/dev/shm');
    return stats.bavail * stats.bsize < 1024 * 1024 * 1024;
  } catch {
    return true;
  }
}

/** A bare name such as `chromium` is looked up on PATH like a shell would. */
export function findExecutable(name: string): string {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return name;
}
