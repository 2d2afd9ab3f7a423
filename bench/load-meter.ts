// The CPU and memory of one load round: the server's, this process's, a helper's and the rest of the machine's.
import { machineBusySeconds } from './proc.js';
import type { LoadOptions, LoadResult } from './load-round.js';

type Measured = Pick<LoadResult, 'serverCpu' | 'loadCpu' | 'helperCpu' | 'otherCpu' | 'rssMaxMb'>;

/** CPU and memory around one round: call the returned function when the round is over. */
export function startMeter(options: LoadOptions): (wallSec: number) => Measured {
  const serverCpuBefore = options.serverCpu();
  const helperBefore = options.helperCpu?.() ?? null;
  const loadCpuBefore = process.cpuUsage();
  const machineBefore = machineBusySeconds();
  let rssMaxMb: number | null = null;
  const sampleRss = () => {
    const rss = options.serverRss?.() ?? null;
    if (rss !== null && (rssMaxMb === null || rss > rssMaxMb)) rssMaxMb = rss;
  };
  sampleRss();
  const rssTimer = options.serverRss ? setInterval(sampleRss, 100) : undefined;
  return (wall) => {
    clearInterval(rssTimer);
    sampleRss();
    const serverCpuAfter = options.serverCpu();
    const helperAfter = options.helperCpu?.() ?? null;
    const loadCpu = process.cpuUsage(loadCpuBefore);
    const machineAfter = machineBusySeconds();
    const serverShare = serverCpuBefore !== null && serverCpuAfter !== null ? (serverCpuAfter - serverCpuBefore) / wall : null;
    const loadShare = (loadCpu.user + loadCpu.system) / 1e6 / wall;
    const helperShare = helperBefore !== null && helperAfter !== null ? Math.max(0, helperAfter - helperBefore) / wall : null;
    const machineShare = machineBefore !== null && machineAfter !== null ? (machineAfter - machineBefore) / wall : null;
    return {
      serverCpu: serverShare,
      loadCpu: loadShare,
      helperCpu: helperShare,
      otherCpu:
        machineShare !== null && serverShare !== null ? Math.max(0, machineShare - serverShare - loadShare - (helperShare ?? 0)) : null,
      rssMaxMb,
    };
  };
}
