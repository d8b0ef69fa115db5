import { loadSettings, SettingsError } from './config/settings.js';
import { createSnapwire } from './snapwire.js';
import { explainStartFailure, sharedMemoryAdvice } from './fault-advice.js';

/** `npm start` and `snapwire serve` end here: start the service and tell the person where it is and how to call it. */
export async function runServer(): Promise<void> {
  let settings;
  try {
    settings = loadSettings();
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`${error.message}\nSee the Configuration section of README.md.\n`);
      process.exit(2);
    }
    throw error;
  }
  let snapwire;
  try {
    snapwire = await createSnapwire(settings);
    await snapwire.listen();
  } catch (error) {
    // One line naming the fix; the exit status lets a supervisor (restart policy, systemd) start it again.
    process.stderr.write(`Snapwire failed to start: ${explainStartFailure(error, settings)}\n`);
    process.exit(1);
  }
  const base = settings.publicUrl;
  const keys = snapwire.createdDefaultKeys;
  const password = snapwire.createdAdminPassword;
  const listening = snapwire.listeningUrls();
  const wildcard = settings.host === '0.0.0.0' || settings.host === '::';
  const listeningLine = `${listening.join(', ')}${wildcard ? ` (every interface, HOST=${settings.host})` : ''}`;
  const shared = `${settings.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `SQLite in ${settings.dataDir}`}; images: ${
    settings.blobStore.kind === 's3'
      ? `s3://${settings.blobStore.bucket}/${settings.blobStore.prefix}`
      : `${settings.dataDir}/blobs`
  }`;
  const lines =
    settings.role === 'worker'
      ? [
          // A worker node serves no API: say what it is and where its health and metrics are.
          '',
          `Snapwire worker node ${settings.nodeId} is running (captures and deliveries from the queue)`,
          `  Listening on: ${listeningLine}`,
          `  Health:       ${listening[0] ?? base}/healthz`,
          `  Metrics:      ${listening[0] ?? base}/metrics`,
          `  Store:        ${shared}`,
          // The first node of a fleet to start makes the admin account, whatever its role: a password it
          // generated is shown here or never.
          ...(password
            ? [
                `  Dashboard:    user admin, password ${password} (generated now and shown this once; served by the role-all nodes at /dashboard)`,
              ]
            : []),
        ]
      : [
          '',
          `Snapwire is running on ${base}`,
          `  Listening on:  ${listeningLine}`,
          `  Dashboard:     ${base}/dashboard`,
          password
            ? `                 user admin, password ${password} (generated now and shown this once; SNAPWIRE_ADMIN_PASSWORD chooses it)`
            : settings.adminPassword
              ? '                 user admin, password from SNAPWIRE_ADMIN_PASSWORD'
              : '                 user admin; lost the password? npx snapwire admin reset-password (same SNAPWIRE_DATA_DIR / DATABASE_URL)',
          `  API reference: ${base}/docs (errors: ${base}/docs/errors)`,
          `  Health:        ${base}/healthz`,
          `  Store:         ${shared}`,
          `  Node:          ${settings.nodeId} (role ${settings.role})`,
        ];
  if (keys) {
    lines.push(
      '',
      'Created the "default" project. Its keys are shown this once; keep them:',
      `  LIVE key: ${keys.LIVE}`,
      `  TEST key: ${keys.TEST}`,
    );
  } else if (settings.role !== 'worker') {
    lines.push(
      '',
      'Keys of the "default" project were shown at its first start; a new one: npx snapwire projects rotate-key default',
    );
  }
  if (settings.role !== 'worker') {
    lines.push(
      '',
      'Take a screenshot:',
      `  curl -o shot.jpg "${base}/screenshot?key=${keys?.LIVE ?? 'YOUR_KEY'}&url=https%3A%2F%2Fexample.com"`,
    );
  }
  lines.push('');
  process.stdout.write(`${lines.join('\n')}\n`);
  const sharedMemory = sharedMemoryAdvice();
  if (sharedMemory) snapwire.services.logger.warn(sharedMemory);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    snapwire.services.logger.info({ signal }, 'shutting down');
    void snapwire.close().then(() => process.exit(0));
    setTimeout(() => process.exit(1), 15_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
