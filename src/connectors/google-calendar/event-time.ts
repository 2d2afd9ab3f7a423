// An event's start and end as Google Calendar takes them (`EventDateTime`: `dateTime` in RFC 3339,
// an offset required unless `timeZone` names an IANA zone; or `date` for an all-day event), from
// the texts a mapping gives: an extracted `appointment_date`, an end or a duration.

/** `2025-03-12T14:30:00-03:00`, `2025-03-12 14:30` (a wall time, read in the step's time zone), seconds and fraction optional. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([Zz]|[+-]\d{2}:?\d{2})?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** IANA names: `UTC`, `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+3`; not bare offsets. */
const ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;

export const EVENT_TIME_HINT = 'a date and time like 2025-03-12T14:30:00-03:00 (or 2025-03-12T14:30 with time_zone), or a date like 2025-03-12 for an all-day event';

interface Wall {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export type ParsedTime = { kind: 'date'; date: string } | { kind: 'date-time'; wall: Wall; offsetMinutes: number | null };

/** The text as an event time, or null when it is none (a wrong shape, or a day or hour that does not exist). */
export function parseEventTime(text: string): ParsedTime | null {
  const trimmed = text.trim();
  const date = DATE.exec(trimmed);
  if (date) {
    const wall = { year: Number(date[1]), month: Number(date[2]), day: Number(date[3]), hour: 0, minute: 0, second: 0 };
    return isRealWall(wall) ? { kind: 'date', date: trimmed } : null;
  }
  const m = DATE_TIME.exec(trimmed);
  if (!m) return null;
  const wall = { year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]), second: Number(m[6] ?? 0) };
  if (!isRealWall(wall)) return null;
  const offset = m[7];
  if (!offset || /z/i.test(offset)) return { kind: 'date-time', wall, offsetMinutes: offset ? 0 : null };
  const [, sign, hours, minutes] = /^([+-])(\d{2}):?(\d{2})$/.exec(offset)!;
  if (Number(hours) > 23 || Number(minutes) > 59) return null;
  return { kind: 'date-time', wall, offsetMinutes: (sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes)) };
}

function isRealWall(w: Wall): boolean {
  if (w.hour > 23 || w.minute > 59 || w.second > 59) return false;
  const d = new Date(Date.UTC(w.year, w.month - 1, w.day));
  return d.getUTCFullYear() === w.year && d.getUTCMonth() === w.month - 1 && d.getUTCDate() === w.day;
}

/** True for a time zone name Intl knows (Google takes IANA names). */
export function isTimeZone(name: string): boolean {
  if (!ZONE_NAME.test(name)) return false;
  try {
    zoneFormat(name);
    return true;
  } catch {
    return false;
  }
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** Building a formatter costs far more than using one; there are few zones in a deployment. */
function zoneFormat(zone: string): Intl.DateTimeFormat {
  let format = zoneFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (zoneFormats.size >= 64) zoneFormats.clear();
    zoneFormats.set(zone, format);
  }
  return format;
}

/** The zone's UTC offset at `instant`, in minutes. */
function zoneOffsetMinutes(zone: string, instant: number): number {
  const parts = Object.fromEntries(zoneFormat(zone).formatToParts(instant).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((wall - Math.floor(instant / 1000) * 1000) / 60_000);
}

const wallMs = (w: Wall) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);

/** The instant of a parsed date-time: its own offset, else its wall time in `zone`. */
export function instantOf(time: Extract<ParsedTime, { kind: 'date-time' }>, zone: string | undefined): number {
  const local = wallMs(time.wall);
  if (time.offsetMinutes !== null) return local - time.offsetMinutes * 60_000;
  if (!zone) throw new Error('a wall time needs a time zone');
  // The offset at the guess, then at the corrected instant: right on both sides of a DST change.
  const first = local - zoneOffsetMinutes(zone, local) * 60_000;
  return local - zoneOffsetMinutes(zone, first) * 60_000;
}

/** RFC 3339 with the offset of `zone` at that instant, or `fixedOffsetMinutes`: `2025-03-12T14:30:00-03:00`. */
export function formatDateTime(instant: number, where: { zone: string } | { fixedOffsetMinutes: number }): string {
  const offset = 'zone' in where ? zoneOffsetMinutes(where.zone, instant) : where.fixedOffsetMinutes;
  const wall = new Date(Math.floor(instant / 1000) * 1000 + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${wall}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/** The day after `date` (YYYY-MM-DD): Google's end of a one-day event is exclusive. */
export function nextDay(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

export interface EventDateTime {
  dateTime?: string;
  date?: string;
  timeZone?: string;
}

export interface EventTimesInput {
  start: string;
  end?: string | null;
  duration_minutes?: number | null;
  time_zone?: string | null;
}

export type EventTimes = { ok: true; start: EventDateTime; end: EventDateTime } | { ok: false; path: 'start' | 'end' | 'duration_minutes'; message: string };

/**
 * Start and end as Google takes them. A timed event's end is `end` or start + `duration_minutes`
 * (real minutes: across a DST change the wall time moves by the change); both are written with
 * the offset of `time_zone` (else of the start's own offset) and carry `timeZone` when given.
 * An all-day event (a date) ends the next day unless `end` names a later date.
 */
export function eventTimes(input: EventTimesInput): EventTimes {
  const start = parseEventTime(input.start);
  if (!start) return { ok: false, path: 'start', message: `"${input.start}" is not ${EVENT_TIME_HINT}` };
  const end = input.end ? parseEventTime(input.end) : null;
  if (input.end && !end) return { ok: false, path: 'end', message: `"${input.end}" is not ${EVENT_TIME_HINT}` };
  const hasDuration = input.duration_minutes !== null && input.duration_minutes !== undefined;
  if (end && hasDuration) return { ok: false, path: 'duration_minutes', message: 'give end or duration_minutes, not both' };
  const zone = input.time_zone ?? undefined;

  if (start.kind === 'date') {
    if (hasDuration) return { ok: false, path: 'duration_minutes', message: 'an all-day event (start is a date) takes an end date, not duration_minutes' };
    if (end && end.kind !== 'date') return { ok: false, path: 'end', message: 'an all-day event (start is a date) ends on a date like 2025-03-13' };
    const endDate = end?.kind === 'date' ? end.date : nextDay(start.date);
    if (endDate <= start.date) return { ok: false, path: 'end', message: `the end date ${endDate} is not after the start date ${start.date} (the end date is exclusive)` };
    return { ok: true, start: { date: start.date }, end: { date: endDate } };
  }

  if (end && end.kind !== 'date-time') return { ok: false, path: 'end', message: 'a timed event (start has a time) ends at a date and time' };
  if (!end && !hasDuration) return { ok: false, path: 'end', message: 'give end or duration_minutes' };
  if (!zone && (start.offsetMinutes === null || (end && end.offsetMinutes === null))) {
    const which = start.offsetMinutes === null ? 'start' : 'end';
    return { ok: false, path: which, message: `"${which === 'start' ? input.start : input.end}" has no UTC offset: add one (e.g. -03:00) or give time_zone (e.g. America/Sao_Paulo)` };
  }
  const startAt = instantOf(start, zone);
  const endAt = end && end.kind === 'date-time' ? instantOf(end, zone) : startAt + input.duration_minutes! * 60_000;
  if (endAt <= startAt) return { ok: false, path: end ? 'end' : 'duration_minutes', message: 'the event ends before it starts (or at the same moment)' };
  const where = zone ? { zone } : { fixedOffsetMinutes: start.offsetMinutes! };
  const endWhere = zone ? { zone } : { fixedOffsetMinutes: end && end.kind === 'date-time' ? end.offsetMinutes! : start.offsetMinutes! };
  const timeZone = zone ? { timeZone: zone } : {};
  return { ok: true, start: { dateTime: formatDateTime(startAt, where), ...timeZone }, end: { dateTime: formatDateTime(endAt, endWhere), ...timeZone } };
}
