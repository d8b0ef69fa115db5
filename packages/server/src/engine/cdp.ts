import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

/**
 * A minimal Chrome DevTools Protocol client over Chromium's `--remote-debugging-pipe` (fd 3 in, fd 4 out,
 * messages separated by NUL). Sessions are "flat" (Target.attachToTarget with flatten): every message
 * carries its sessionId on the one pipe.
 *
 * Why not Playwright: measured on 2 cores, Playwright's newContext()+newPage() costs ~350 ms of mostly
 * protocol set-up (init scripts, utility worlds, per-frame bookkeeping) a job; the same isolated context
 * made here with createBrowserContext + createTarget + four enables is ~120 ms, and we need none of the
 * rest. Owning the pipe also means owning the process (see chromium-process.ts).
 */
export class CdpError extends Error {
  constructor(
    readonly method: string,
    message: string,
    readonly code?: number,
  ) {
    super(`${method}: ${message}`);
    this.name = 'CdpError';
  }
}

/** The connection is gone (browser exited or crashed); every pending call fails with this. */
export class CdpClosedError extends Error {
  constructor(reason: string) {
    super(`browser connection closed: ${reason}`);
    this.name = 'CdpClosedError';
  }
}

interface Pending {
  method: string;
  sessionId: string | undefined;
  resolve: (value: any) => void;
  reject: (error: unknown) => void;
}

type Listener = (params: any) => void;

export class CdpSession extends EventEmitter {
  constructor(
    private readonly connection: CdpConnection,
    readonly sessionId: string | undefined,
  ) {
    super();
    this.setMaxListeners(50);
  }

  send<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    return this.connection.send<T>(method, params, this.sessionId);
  }

  /** Resolves with the params of the first `event` matching `predicate`. */
  waitFor<T = any>(event: string, predicate: (params: T) => boolean = () => true): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const listener: Listener = (params) => {
        if (!predicate(params)) return;
        cleanup();
        resolve(params);
      };
      const onClose = (error: unknown) => {
        cleanup();
        reject(error);
      };
      const cleanup = () => {
        this.off(event, listener);
        this.off('__closed', onClose);
      };
      this.on(event, listener);
      this.on('__closed', onClose);
    });
  }

  get closed(): boolean {
    return this.connection.closed || (this.sessionId !== undefined && !this.connection.hasSession(this));
  }
}

export class CdpConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly sessions = new Map<string, CdpSession>();
  readonly root: CdpSession;
  private buffered: Buffer[] = [];
  closed = false;
  private closeReason = '';
  private readonly closeListeners: Array<(reason: string) => void> = [];

  constructor(
    private readonly output: Writable,
    input: Readable,
  ) {
    this.root = new CdpSession(this, undefined);
    input.on('data', (chunk: Buffer) => this.onData(chunk));
    input.on('close', () => this.close('pipe closed'));
    input.on('error', (error) => this.close(`pipe error: ${error.message}`));
    output.on('error', (error) => this.close(`pipe error: ${error.message}`));
  }

  onClose(listener: (reason: string) => void): void {
    if (this.closed) listener(this.closeReason);
    else this.closeListeners.push(listener);
  }

  hasSession(session: CdpSession): boolean {
    return session.sessionId !== undefined && this.sessions.get(session.sessionId) === session;
  }

  session(sessionId: string): CdpSession {
    let session = this.sessions.get(sessionId);
    if (!session) {
      session = new CdpSession(this, sessionId);
      this.sessions.set(sessionId, session);
    }
    return session;
  }

  send<T>(method: string, params: Record<string, unknown>, sessionId?: string): Promise<T> {
    if (this.closed) return Promise.reject(new CdpClosedError(this.closeReason));
    const id = this.nextId++;
    const message = JSON.stringify(sessionId ? { id, method, params, sessionId } : { id, method, params });
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, sessionId, resolve, reject });
      this.output.write(message);
      this.output.write('\0');
    });
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    for (const [, pending] of this.pending) pending.reject(new CdpClosedError(reason));
    this.pending.clear();
    const error = new CdpClosedError(reason);
    for (const session of this.sessions.values()) session.emit('__closed', error);
    this.root.emit('__closed', error);
    this.sessions.clear();
    for (const listener of this.closeListeners.splice(0)) listener(reason);
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(0); end !== -1; end = chunk.indexOf(0, start)) {
      this.buffered.push(chunk.subarray(start, end));
      const text = Buffer.concat(this.buffered).toString('utf8');
      this.buffered = [];
      start = end + 1;
      this.dispatch(text);
    }
    if (start < chunk.length) this.buffered.push(chunk.subarray(start));
  }

  private dispatch(text: string): void {
    let message: {
      id?: number;
      method?: string;
      params?: any;
      result?: any;
      error?: { message: string; code?: number; data?: string };
      sessionId?: string;
    };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.id !== undefined) {
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      if (message.error) {
        const detail = message.error.data
          ? `${message.error.message} (${message.error.data})`
          : message.error.message;
        pending.reject(new CdpError(pending.method, detail, message.error.code));
      } else pending.resolve(message.result);
      return;
    }
    if (!message.method) return;
    if (message.method === 'Target.detachedFromTarget') {
      const detached = this.sessions.get(message.params?.sessionId);
      if (detached) {
        this.sessions.delete(message.params.sessionId);
        for (const [id, pending] of this.pending) {
          if (pending.sessionId !== message.params.sessionId) continue;
          this.pending.delete(id);
          pending.reject(new CdpClosedError('target detached'));
        }
        detached.emit('__closed', new CdpClosedError('target detached'));
        detached.emit('detached', message.params);
      }
    }
    const session = message.sessionId ? this.sessions.get(message.sessionId) : this.root;
    session?.emit(message.method, message.params ?? {});
  }
}
