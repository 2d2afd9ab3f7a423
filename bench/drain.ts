// Reads the service's SQLite file read-only (a second connection; WAL lets it read while the
// service writes) to see how far the worker is: runs by status, and when they finished.
import Database from 'better-sqlite3';

const OPEN = `('pending', 'running', 'retrying')`;

export interface DrainResult {
  /** Runs still open (pending, running, retrying) at the first look after the last ack. */
  openAtLastAck: number;
  /** Runs that finished after the last ack. */
  finishedAfterAck: number;
  /** From the last ack to the last run finishing, in seconds (0 when nothing was left). */
  seconds: number;
  /** finishedAfterAck / seconds, or null when there was nothing to drain. */
  runsPerSec: number | null;
  timedOut: boolean;
}

export class RunsReader {
  private readonly db: Database.Database;
  private readonly open;
  private readonly byStatus;
  private readonly finishedBetween;
  private readonly lastFinished;
  private readonly accepted;

  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.open = this.db.prepare(`SELECT COUNT(*) FROM runs WHERE status IN ${OPEN}`).pluck();
    this.byStatus = this.db.prepare('SELECT status, COUNT(*) AS n FROM runs GROUP BY status');
    this.finishedBetween = this.db.prepare('SELECT COUNT(*) FROM runs WHERE finished_at >= ? AND finished_at <= ?').pluck();
    this.lastFinished = this.db.prepare('SELECT MAX(finished_at) FROM runs').pluck();
    this.accepted = this.db.prepare(`SELECT COUNT(*) FROM receipts WHERE outcome = 'accepted'`).pluck();
  }

  openRuns(): number {
    return this.open.get() as number;
  }

  countsByStatus(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const row of this.byStatus.all() as Array<{ status: string; n: number }>) counts[row.status] = row.n;
    return counts;
  }

  finishedIn(fromMs: number, toMs: number): number {
    return this.finishedBetween.get(fromMs, toMs) as number;
  }

  acceptedReceipts(): number {
    return this.accepted.get() as number;
  }

  /**
   * Polls until no run is open, at most `timeoutMs`. The drain time is measured with the
   * service's own finished_at stamps (same machine clock), not with the poll interval.
   */
  async waitForDrain(lastAckAt: number, timeoutMs: number, aborted: () => boolean): Promise<DrainResult> {
    const openAtLastAck = this.openRuns();
    const deadline = Date.now() + timeoutMs;
    let timedOut = false;
    while (this.openRuns() > 0) {
      if (aborted()) throw new Error('stopped while waiting for the worker');
      if (Date.now() > deadline) {
        timedOut = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const last = (this.lastFinished.get() as number | null) ?? lastAckAt;
    const finishedAfterAck = this.finishedIn(lastAckAt, Number.MAX_SAFE_INTEGER);
    const seconds = Math.max(0, last - lastAckAt) / 1000;
    return {
      openAtLastAck,
      finishedAfterAck,
      seconds,
      runsPerSec: finishedAfterAck > 0 && seconds > 0 ? finishedAfterAck / seconds : null,
      timedOut,
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
