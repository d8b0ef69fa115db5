import fs from 'node:fs';
import { listProcesses } from '../packages/server/src/engine/chromium-process.js';

/** CPU time (ms) of this process and every live descendant (Chromium's helpers, child crawlers). */
export function processTreeCpuMs(): number {
  const children = new Map<number, number[]>();
  for (const info of listProcesses()) children.set(info.ppid, [...(children.get(info.ppid) ?? []), info.pid]);
  let ticks = 0;
  const stack = [process.pid];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime, in clock ticks of 10 ms
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // gone meanwhile
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return ticks * 10;
}
