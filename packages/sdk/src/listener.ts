// `snapwire listen --secret S --out DIR`: a node:http server with the receiver that saves every screenshot
// as `<outDir>/<jobId>.<ext>` next to a `<jobId>.json` sidecar holding the delivery's metadata, and prints
// one line per delivery. Files are written to a temporary name and renamed, so a file that exists is whole;
// the sidecar is written last, so its presence means the pair is complete.

import { randomBytes } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createWebhookReceiver, type ReceiverLogger, type WebhookDelivery } from './receiver.js';

export interface RunListenerOptions {
  /** Port to listen on (0 = any free port; see the returned `url`). */
  port?: number;
  /** Interface to bind (default `127.0.0.1`). */
  host?: string;
  /** Signing secret(s) of the webhook; several while rotating. */
  secrets: string | readonly string[];
  /** Folder the screenshots go to (created if missing). */
  outDir: string;
  /** Receives one line per delivery (default: console.log). */
  log?: (line: string) => void;
  /** Resource types saved (default `['screenshot']`); pings are always logged. */
  resourceTypes?: readonly string[];
  /** Larger deliveries get 413 (default 50 MiB). */
  maxBodyBytes?: number;
  /** Only answer on this path (default: any path). */
  path?: string;
}

export interface SavedDelivery {
  jobId: string | undefined;
  file: string;
  sidecar: string;
  bytes: number;
}

export interface RunningListener {
  /** e.g. `http://127.0.0.1:8787/`: the URL to register as the webhook's endpoint. */
  url: string;
  port: number;
  server: Server;
  /** Stops accepting deliveries, then waits for the files being written. */
  close(): Promise<void>;
}

/** A job id as a safe file name: no separators, no leading dots, at most 128 characters. */
export function fileStem(jobId: string | undefined): string {
  const cleaned = (jobId ?? '')
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '')
    .slice(0, 128);
  return cleaned !== '' ? cleaned : `delivery-${Date.now()}-${randomBytes(4).toString('hex')}`;
}

const SIDECAR_HEADERS = /^(x-scrapfly-|content-type$|content-length$|content-encoding$|user-agent$)/;

async function writeAtomically(file: string, data: string | Buffer): Promise<void> {
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, file);
}

/** Saves one delivery as `<stem>.<ext>` + `<stem>.json` in `outDir`. */
export async function saveDelivery(outDir: string, delivery: WebhookDelivery): Promise<SavedDelivery> {
  const stem = fileStem(delivery.jobId);
  const file = path.join(outDir, `${stem}.${delivery.extension}`);
  // An error delivery is itself JSON: its metadata then goes to <stem>.meta.json, never over the body.
  const sidecar = path.join(outDir, delivery.extension === 'json' ? `${stem}.meta.json` : `${stem}.json`);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(delivery.headers)) {
    if (SIDECAR_HEADERS.test(name)) headers[name] = value;
  }
  const metadata = {
    jobId: delivery.jobId ?? null,
    file: path.basename(file),
    contentType: delivery.contentType,
    extension: delivery.extension,
    bytes: delivery.image.length,
    resourceType: delivery.resourceType,
    webhookName: delivery.webhookName ?? null,
    webhookUuid: delivery.webhookUuid ?? null,
    project: delivery.project ?? null,
    env: delivery.env ?? null,
    logUuid: delivery.logUuid ?? null,
    logUrl: delivery.logUrl ?? null,
    receivedAt: delivery.receivedAt.toISOString(),
    headers,
  };
  await writeAtomically(file, delivery.image);
  await writeAtomically(sidecar, `${JSON.stringify(metadata, null, 2)}\n`);
  return { jobId: delivery.jobId, file, sidecar, bytes: delivery.image.length };
}

export async function runListener(options: RunListenerOptions): Promise<RunningListener> {
  const outDir = path.resolve(options.outDir);
  const print = options.log ?? ((line: string) => console.log(line));
  const line = (text: string): void => print(`${new Date().toISOString()} ${text}`);
  await mkdir(outDir, { recursive: true });

  const logger: ReceiverLogger = {
    info: (message) => line(message),
    warn: (message) => line(message),
    error: (message) => line(message),
  };
  const receiver = createWebhookReceiver({
    secrets: options.secrets,
    ...(options.resourceTypes ? { resourceTypes: options.resourceTypes } : {}),
    ...(options.maxBodyBytes !== undefined ? { maxBodyBytes: options.maxBodyBytes } : {}),
    ...(options.path !== undefined ? { path: options.path } : {}),
    logger,
    onScreenshot: async (delivery) => {
      const saved = await saveDelivery(outDir, delivery);
      line(
        `${delivery.resourceType} job=${delivery.jobId ?? '-'} webhook=${delivery.webhookName ?? '-'} ` +
          `${saved.bytes} B ${delivery.contentType} -> ${saved.file}`,
      );
    },
    onPing: (delivery) => {
      line(
        `ping job=${delivery.jobId ?? '-'} webhook=${delivery.webhookName ?? '-'} project=${delivery.project ?? '-'}`,
      );
    },
  });

  const server = createServer(receiver);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${shownHost}:${port}${options.path ?? '/'}`;
  line(`listening on ${url}, saving to ${outDir}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    server,
    close: () => {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await receiver.drain();
      })();
      return closing;
    },
  };
}
