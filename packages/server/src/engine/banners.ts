import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * options=block_banners: cookie and consent pop-ups are dismissed (opt-out clicked) or hidden with
 * DuckDuckGo's autoconsent, whose maintained rule set ships inside the npm package (rules/compact-rules.json,
 * ~300 CMPs plus cosmetic rules) and therefore works offline.
 *
 * Autoconsent's content script runs in every document of the page (main world, injected before the page's
 * own scripts), with a message bridge answered in the page itself: no round trip to Node per message.
 * Prehiding hides every known consent container from the first paint; the opt-out then runs; the capture
 * waits for autoconsent to finish, or at most SNAPWIRE_BANNER_WAIT after load.
 */

/** Top-frame lifecycle states after which autoconsent does nothing more. */
export const BANNER_TERMINAL_STATES = [
  'nothingDetected',
  'optOutSucceeded',
  'optOutFailed',
  'optInSucceeded',
  'optInFailed',
  'done',
] as const;

const CONFIG = {
  enabled: true,
  autoAction: 'optOut',
  disabledCmps: [],
  enablePrehide: true,
  enableCosmeticRules: true,
  enableGeneratedRules: true,
  enableHeuristicDetection: true,
  enablePopupMutationObserver: false,
  // Detection is retried every ~500 ms; a screenshot cannot wait the default 20 rounds.
  detectRetries: 4,
  isMainWorld: true,
  prehideTimeout: 4000,
  visualTest: false,
  logs: {
    lifecycle: false,
    rulesteps: false,
    detectionsteps: false,
    evals: false,
    errors: false,
    messages: false,
    waits: false,
  },
  performanceLoggingEnabled: false,
  heuristicPopupSearchTimeout: 100,
  heuristicMode: 'tier2',
};

let cached: { script: string } | undefined;

function packageDir(): string {
  const require = createRequire(import.meta.url);
  // The package exports only its entry points; the bundles sit next to the CommonJS one in dist/.
  return path.dirname(path.dirname(require.resolve('@duckduckgo/autoconsent')));
}

/** The script injected into every document when block_banners is asked (built once, ~400 KB). */
export function bannerScript(): string {
  if (cached) return cached.script;
  const dir = packageDir();
  const bundle = fs.readFileSync(path.join(dir, 'dist', 'autoconsent.playwright.js'), 'utf8');
  const rules = fs.readFileSync(path.join(dir, 'rules', 'compact-rules.json'), 'utf8');
  const prelude = `(() => {
  if (window.__snapwireConsent) return;
  const top = window.top === window;
  const state = { lifecycle: 'loading', done: false, cmp: null, popup: false };
  Object.defineProperty(window, '__snapwireConsent', { value: state, enumerable: false });
  const config = ${JSON.stringify(CONFIG)};
  const rules = { autoconsent: [], compact: ${rules} };
  const answer = (message) => setTimeout(() => { try { window.autoconsentReceiveMessage && window.autoconsentReceiveMessage(message); } catch (e) {} }, 0);
  window.autoconsentSendMessage = async (message) => {
    if (!message || typeof message !== 'object') return;
    switch (message.type) {
      case 'init': answer({ type: 'initResp', config, rules }); break;
      case 'eval': { let result = false; try { result = !!(0, eval)(message.code); } catch (e) {} answer({ type: 'evalResp', id: message.id, result }); break; }
      case 'report': if (top && message.state) state.lifecycle = message.state.lifecycle; break;
      case 'popupFound': if (top) state.popup = true; break;
      case 'autoconsentDone': if (top) { state.done = true; state.cmp = message.cmp; } break;
    }
  };
})();\n`;
  cached = { script: prelude + bundle };
  return cached.script;
}

/** Evaluated in the page: true once autoconsent has finished in the top frame. */
export const BANNER_DONE_EXPRESSION = `(() => { const s = window.__snapwireConsent; if (!s) return true; return s.done || ${JSON.stringify(BANNER_TERMINAL_STATES)}.includes(s.lifecycle); })()`;
