import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CdpConnection } from './cdp.js';
import { makeProfileFolder, removeProfileFolder } from './profile-folders.js';

/**
 * Starting and stopping one Chromium process, with nothing left behind.
 *
 * Zombies: Chromium's helpers (two zygotes, crashpad handlers that double-fork at start) outlive the browser
 * process by a few milliseconds at every exit, so they are re-parented to PID 1. In a container whose PID 1
 * does not reap (measured on this project's machine: `sh -c 'sleep 0.2 &'` leaves a zombie forever; a plain
 * Playwright launch + close leaves four: two crashpad handlers, two zygotes) every browser restart would
 * leak processes. So Chromium runs under a tiny reaper: a Perl one-liner (perl-base is Essential on Debian,
 * where the chromium package lives) that makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), runs
 * Chromium as its child, reaps every orphan that lands on it, and when Chromium exits, SIGKILLs whatever
 * descendant is left and reaps it before exiting itself. Without perl the browser is started directly and
 * a warning says to run under an init that reaps (docker run --init).
 */

// Linux prctl(2) syscall numbers (perl's syscall() wants the number; syscall.ph is not in perl-base).
const PRCTL_SYSCALL: Record<string, number> = {
  x64: 157,
  arm64: 167,
  ia32: 172,
  arm: 172,
  ppc64: 171,
  s390x: 172,
};

const REAPER = String.raw`
use strict; use POSIX ();
my $nr = shift @ARGV; my $parent = getppid();
my $sub = $nr > 0 && syscall($nr, 36, 1, 0, 0, 0) == 0;
my $main = fork(); die "reaper: fork failed: $!" unless defined $main;
if ($main == 0) { exec { $ARGV[0] } @ARGV; POSIX::_exit(127); }
my $stop = 0;
$SIG{TERM} = $SIG{INT} = $SIG{HUP} = sub { $stop = 1; kill 'KILL', $main; };
sub children { my @c; opendir(my $d, '/proc') or return @c;
  for my $e (readdir $d) { next unless $e =~ /^\d+$/; open(my $f, '<', "/proc/$e/stat") or next;
    my $s = <$f>; close $f; next unless defined $s; $s =~ s/^.*\)\s+//; my @x = split / /, $s;
    push @c, $e if $x[1] == $$; }
  return @c; }
my $status; my $gone = 0;
for (;;) {
  my $r = waitpid(-1, POSIX::WNOHANG());
  if ($r == -1) { last; }
  if ($r > 0) { if ($r == $main) { $status = $?; $gone = 1; } next; }
  if (!$gone && getppid() != $parent) { kill 'KILL', $main; }
  if ($gone) { my @c = children(); kill 'KILL', @c if @c; }
  select(undef, undef, undef, $gone ? 0.02 : 0.25);
}
exit(defined $status ? (($status & 127) ? 128 + ($status & 127) : $status >> 8) : 1);
`;

export interface LaunchOptions {
  executable: string;
  args: string[];
  /** Called once when the process has exited (crash, kill or close). */
  onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface ProcessInfo {
  pid: number;
  ppid: number;
  pgid: number;
  state: string;
  name: string;
  /** Start time in clock ticks since boot: (pid, start) names a process even if its pid is reused later. */
  start: number;
}

let reaperChecked: boolean | undefined;
function reaperAvailable(): boolean {
  if (reaperChecked !== undefined) return reaperChecked;
  reaperChecked = false;
  if (process.platform !== 'linux' || !(process.arch in PRCTL_SYSCALL)) return false;
  for (const dir of ['/usr/bin', '/bin', '/usr/local/bin']) {
    try {
      fs.accessSync(path.join(dir, 'perl'), fs.constants.X_OK);
      reaperChecked = true;
      break;
    } catch {
      // keep looking
    }
  }
  return reaperChecked;
}

/** One Chromium process (under its reaper) and its DevTools pipe. */
export class ChromiumProcess {
  readonly connection: CdpConnection;
  readonly exited: Promise<void>;
  /** The process Node started: the reaper, or Chromium itself when perl is missing. Leads its process group. */
  readonly pid: number;
  readonly reaped: boolean;
  private exitedFlag = false;
  private stderrTail = '';

  private constructor(
    private readonly child: ChildProcess,
    private readonly userDataDir: string,
    reaped: boolean,
    onExit: LaunchOptions['onExit'],
  ) {
    this.pid = child.pid ?? -1;
    this.reaped = reaped;
    this.connection = new CdpConnection(child.stdio[3] as Writable, child.stdio[4] as Readable);
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-4000);
    });
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitedFlag = true;
        this.connection.close(`browser process exited (${signal ?? `code ${code}`})`);
        // At once, not in the background: a shutdown exits right after the browsers are closed.
        removeProfileFolder(userDataDir);
        onExit?.(code, signal);
        resolve();
      });
    });
  }

  static launch(options: LaunchOptions): ChromiumProcess {
    const userDataDir = makeProfileFolder();
    const args = [
      ...options.args,
      '--remote-debugging-pipe',
      `--user-data-dir=${userDataDir}`,
      'about:blank',
    ];
    const reaped = reaperAvailable();
    const [command, argv] = reaped
      ? ['perl', ['-e', REAPER, String(PRCTL_SYSCALL[process.arch]), options.executable, ...args]]
      : [options.executable, args];
    const child = spawn(command, argv as string[], {
      // fd 3: commands to Chromium, fd 4: answers and events from it (--remote-debugging-pipe).
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      // Its own process group, so a last-resort kill reaches every helper at once.
      detached: true,
      env: process.env,
    });
    const launched = new ChromiumProcess(child, userDataDir, reaped, options.onExit);
    child.once('error', () => {
      // spawn failure (ENOENT): reported by the first CDP call failing with the connection closed.
      launched.connection.close('the browser could not be started');
    });
    return launched;
  }

  static reaperAvailable(): boolean {
    return reaperAvailable();
  }

  get isRunning(): boolean {
    return !this.exitedFlag;
  }

  get lastStderr(): string {
    return this.stderrTail;
  }

  /**
   * Asks Chromium to close (it shuts its renderers down and reaps them), then escalates: SIGTERM to the
   * reaper (which SIGKILLs Chromium and cleans up), then SIGKILL to the whole process group.
   */
  async close(graceMs = 3_000): Promise<void> {
    if (this.exitedFlag) return;
    this.connection.root.send('Browser.close').catch(() => {});
    if (await this.waitExit(graceMs)) return;
    this.signal('SIGTERM');
    if (await this.waitExit(2_000)) return;
    this.killGroup();
    await this.waitExit(2_000);
  }

  /** For a hung browser: no asking. */
  async kill(): Promise<void> {
    if (this.exitedFlag) return;
    this.signal('SIGTERM');
    if (await this.waitExit(2_000)) return;
    this.killGroup();
    await this.waitExit(2_000);
  }

  /** Every process of this browser (reaper, Chromium, helpers; crashpad re-parented to the reaper). */
  descendants(): ProcessInfo[] {
    const all = listProcesses();
    const byParent = new Map<number, ProcessInfo[]>();
    for (const info of all) {
      const siblings = byParent.get(info.ppid) ?? [];
      siblings.push(info);
      byParent.set(info.ppid, siblings);
    }
    const result: ProcessInfo[] = [];
    const root = all.find((info) => info.pid === this.pid);
    if (!root) return result;
    const stack = [root];
    while (stack.length > 0) {
      const next = stack.pop() as ProcessInfo;
      result.push(next);
      stack.push(...(byParent.get(next.pid) ?? []));
    }
    return result;
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      this.child.kill(signal);
    } catch {
      // already gone
    }
  }

  private killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  private waitExit(ms: number): Promise<boolean> {
    if (this.exitedFlag) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

/** A snapshot of /proc (Linux): used by the pool's leak check and by the zombie tests. */
export function listProcesses(): ProcessInfo[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const result: ProcessInfo[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    result.push({
      pid: Number(entry),
      name: stat.slice(open + 1, close),
      state: fields[0] ?? '?',
      ppid: Number(fields[1]),
      pgid: Number(fields[2]),
      start: Number(fields[19]),
    });
  }
  return result;
}

/** PSS (proportional set size) of a process and every descendant, in MB: shared pages counted once. */
export function processTreePssMb(rootPid: number = process.pid): number {
  const children = new Map<number, number[]>();
  for (const info of listProcesses()) children.set(info.ppid, [...(children.get(info.ppid) ?? []), info.pid]);
  const stack = [rootPid];
  let kb = 0;
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    try {
      kb += Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return kb / 1024;
}
