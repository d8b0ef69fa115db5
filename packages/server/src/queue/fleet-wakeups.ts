import type { Logger } from 'pino';
import pg from 'pg';

/** The PostgreSQL channel nodes wake each other on. */
export const WAKEUP_CHANNEL = 'snapwire_jobs';
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;

/**
 * Wake-ups across a fleet with PostgreSQL LISTEN/NOTIFY: a node that queues a job or makes a delivery due
 * says so on one channel, and every node's worker looks at the queue at once, instead of each node polling
 * faster as the fleet grows. One dedicated connection per node listens; it reconnects after a restart or a
 * cut connection (the worker's own timed look, SNAPWIRE_QUEUE_POLL, covers the gap).
 *
 * The channel name includes the schema, so fleets in different schemas of one database (tests) do not wake
 * each other.
 */
export class FleetWakeups {
  private listener: pg.Client | undefined;
  /** The connection being opened or in use; events of older ones are ignored. */
  private current: pg.Client | undefined;
  private stopped = false;
  private reconnectDelay = RECONNECT_MIN_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly channel: string;
  /** Whether the listening connection is up (for /healthz and tests). */
  listening = false;

  constructor(
    private readonly databaseUrl: string,
    schema: string | undefined,
    private readonly notify: (channel: string) => Promise<unknown>,
    private readonly onWake: () => void,
    private readonly logger: Logger,
  ) {
    this.channel = schema ? `${WAKEUP_CHANNEL}_${schema}` : WAKEUP_CHANNEL;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const listener = this.listener;
    this.listener = undefined;
    this.current = undefined;
    this.listening = false;
    await listener?.end().catch(() => undefined);
  }

  /** Tells every node (this one included) to look at the queue. Failures only cost a poll interval. */
  announce(): void {
    void this.notify(this.channel).catch((error: unknown) =>
      this.logger.debug({ err: error }, 'could not announce a queue change'),
    );
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl });
    this.current = client;
    client.on('notification', () => this.onWake());
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'queue wake-up connection lost; reconnecting');
      this.lost(client);
    });
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not listen for queue wake-ups; retrying');
      this.lost(client);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listener = client;
    this.listening = true;
    this.reconnectDelay = RECONNECT_MIN_MS;
    // Whatever was announced while we were not listening: look now.
    this.onWake();
  }

  private lost(client: pg.Client): void {
    if (client !== this.current) return;
    this.current = undefined;
    if (this.listener === client) {
      this.listener = undefined;
      this.listening = false;
    }
    void client.end().catch(() => undefined);
    if (this.stopped || this.reconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped && !this.listener) void this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }
}
