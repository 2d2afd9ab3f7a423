// What Linux /proc says about CPU and memory, for the benchmark's CPU and RSS columns. Every
// reader returns null where /proc is missing or the process is gone.
import { readdirSync, readFileSync } from 'node:fs';

const USER_HZ = 100;

/** utime + stime of a process from /proc/<pid>/stat, in seconds. */
export function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command name start at field 3 (state): utime is field 14, stime 15.
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return null;
  }
}

/** Resident set size (VmRSS of /proc/<pid>/status) in MB. */
export function rssMb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Bytes a process has caused to be written to storage so far (write_bytes of /proc/<pid>/io:
 * every thread's, WAL appends and checkpoints alike), or null.
 */
export function writtenBytes(pid: number): number | null {
  try {
    const match = /^write_bytes:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Busy CPU seconds of the whole machine, all cores (/proc/stat). */
export function machineBusySeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: everything but idle and iowait
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / USER_HZ;
  } catch {
    return null;
  }
}

/**
 * CPU seconds used so far by every process named `postgres` on this machine (the server and its
 * backends), or null when there is none. A backend that exits between two readings takes its
 * share with it, so a difference of two readings is a lower bound.
 */
export function postgresCpuSeconds(): number | null {
  let total = 0;
  let found = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
    } catch {
      continue;
    }
    const cpu = procCpuSeconds(Number(entry));
    if (cpu !== null) {
      total += cpu;
      found = true;
    }
  }
  return found ? total : null;
}
