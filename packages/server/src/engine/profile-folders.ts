import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Each Chromium gets a temporary profile folder (~6 MB once started), removed when it exits. The folder's
// name carries the pid of the Snapwire process that made it, so that a later start can tell the leftovers
// of a crashed (or SIGKILLed) process from the folders of a Snapwire still running next to it.
const PREFIX = 'snapwire-chromium-';

export function makeProfileFolder(tmpdir: string = os.tmpdir()): string {
  return fs.mkdtempSync(path.join(tmpdir, `${PREFIX}${process.pid}-`));
}

/** Removes a profile folder now (the browser has exited); never throws. */
export function removeProfileFolder(folder: string): void {
  try {
    fs.rmSync(folder, { recursive: true, force: true, maxRetries: 3 });
  } catch {
    // A folder that cannot be removed now is a leftover the next start removes.
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function chromiumLockPid(folder: string): number | undefined {
  try {
    const pid = Number(/-(\d+)$/.exec(fs.readlinkSync(path.join(folder, 'SingletonLock')))?.[1]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Removes the profile folders of Snapwire processes that are gone. Folders of this process and of live
 * processes are kept; folders without a pid in the name (older versions) go when Chromium's lock names a dead process, or
 * when older than an hour without a lock.
 * Returns how many were removed.
 */
export function removeStaleProfileFolders(tmpdir: string = os.tmpdir(), now = Date.now()): number {
  let removed = 0;
  let names: string[];
  try {
    names = fs.readdirSync(tmpdir).filter((name) => name.startsWith(PREFIX));
  } catch {
    return 0;
  }
  for (const name of names) {
    const folder = path.join(tmpdir, name);
    const pid = Number(/^snapwire-chromium-(\d+)-/.exec(name)?.[1]);
    let stale: boolean;
    if (Number.isInteger(pid) && pid > 0) {
      stale = pid !== process.pid && !isAlive(pid);
    } else {
      // Older names: Chromium's SingletonLock link ("host-pid") says whether its browser still runs.
      const lockPid = chromiumLockPid(folder);
      try {
        stale = lockPid !== undefined ? !isAlive(lockPid) : now - fs.statSync(folder).mtimeMs > 3_600_000;
      } catch {
        continue;
      }
    }
    if (stale) {
      removeProfileFolder(folder);
      if (!fs.existsSync(folder)) removed += 1;
    }
  }
  return removed;
}
