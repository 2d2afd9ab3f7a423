// `google.calendar.event.create`: books the call's appointment. The event carries the call id as
// a private extended property, and the step first looks for an event with it, so a retried or
// re-evaluated step updates (patches) that event instead of adding a second one: safe to repeat.
import { z } from 'zod';
import type { calendar_v3 } from '@googleapis/calendar';
import { PermanentError, TransientError } from '../../connector.js';
import { during } from '../../classify-failure.js';
import { optional, present } from '../../step-input.js';
import { googleCalendarStep, type CalendarApi, type CallOptions } from '../client.js';
import { EVENT_TIME_HINT, eventTimes, isTimeZone, parseEventTime } from '../event-time.js';

/** The private extended properties the step finds its event by (private: per calendar, not shown to guests). */
export const CALL_PROPERTY = 'aftercall_call_id';
export const KEY_PROPERTY = 'aftercall_event_key';
/** Pages of a search read before giving up (Google may answer a page with fewer events than there are). */
const MAX_SEARCH_PAGES = 10;

const eventTime = z.string().refine((v) => parseEventTime(v) !== null, { error: (issue) => `"${String(issue.input)}" is not ${EVENT_TIME_HINT}` });
const email = z.email('must be an email address like ana@example.com');

const input = z
  .strictObject({
    call_id: z
      .union([z.string().min(1), z.number()])
      .transform(String)
      .describe(`The call the event is for, "{{ call.id }}". Stored as the private extended property ${CALL_PROPERTY}; the step finds the event by it and updates it rather than adding another.`),
    event_key: optional(z.string().min(1).max(200)).describe(
      `Tells several events of one call apart (two calendar steps in one mapping): stored as ${KEY_PROPERTY} and searched with the call id. Unset: one event per call and calendar.`,
    ),
    summary: z.string().min(1).describe('Event title, e.g. "{{ extracted.service_type }}: {{ input.customer_name }}".'),
    start: eventTime.describe(
      'When it starts, e.g. "{{ extracted.appointment_date }}": 2025-03-12T14:30:00-03:00, or a wall time 2025-03-12T14:30 read in time_zone, or a date 2025-03-12 for an all-day event.',
    ),
    end: optional(eventTime).describe('When it ends (same forms as start; a date for an all-day event, exclusive). Or give duration_minutes.'),
    duration_minutes: optional(z.coerce.number().int('must be whole minutes').positive().max(14 * 24 * 60)).describe('Length of a timed event in minutes, instead of end.'),
    time_zone: optional(z.string().refine(isTimeZone, 'must be an IANA time zone name like Europe/Berlin or America/Sao_Paulo')).describe(
      'IANA time zone of the event: wall times without an offset are read in it, and Google shows the event in it. Unset: times need an offset.',
    ),
    attendees: optional(z.union([email, z.array(email.nullable())]))
      .transform((v) => (v === null || v === undefined ? v : (Array.isArray(v) ? v : [v]).filter((a): a is string => a !== null)))
      .describe('Guest email address(es), e.g. "{{ lead.email }}". A service account can invite guests only acting for a user (GOOGLE_SERVICE_ACCOUNT_SUBJECT).'),
    description: optional(z.string()).describe('Event description, e.g. the call summary "{{ extracted.summary }}".'),
    location: optional(z.string()).describe('Where it takes place.'),
    send_updates: optional(z.enum(['all', 'externalOnly', 'none'])).describe(
      "Whom Google notifies of the new event or the change: all guests, externalOnly (guests not on Google Calendar) or none (Google warns it can keep guests' calendars out of sync). Unset: Google's default, no notifications (some emails may still go out).",
    ),
    calendar_id: optional(z.string().min(1)).describe('Calendar to book into; default GOOGLE_CALENDAR_ID.'),
  })
  .superRefine((v, ctx) => {
    // zod runs this even when a field failed: its value is then as given, and reported there.
    if (!fieldsValid(v)) return;
    const times = eventTimes(v);
    if (!times.ok) ctx.addIssue({ code: 'custom', path: [times.path], message: times.message });
  });

type Event = calendar_v3.Schema$Event;

/** Whether the fields the times are made of passed their own checks. */
function fieldsValid(v: { start: unknown; end?: unknown; time_zone?: unknown; duration_minutes?: unknown }): boolean {
  const absent = (x: unknown) => x === null || x === undefined;
  return (
    typeof v.start === 'string' &&
    parseEventTime(v.start) !== null &&
    (absent(v.end) || (typeof v.end === 'string' && parseEventTime(v.end) !== null)) &&
    (absent(v.time_zone) || (typeof v.time_zone === 'string' && isTimeZone(v.time_zone))) &&
    (absent(v.duration_minutes) || (Number.isInteger(v.duration_minutes) && (v.duration_minutes as number) > 0))
  );
}

export const eventCreate = googleCalendarStep({
  kind: 'google.calendar.event.create',
  description:
    'Book an event (e.g. the appointment the call agreed) in Google Calendar; a retried or re-evaluated step updates the event it made (found by the call id). Output: { event_id, html_link, status, updated }.',
  input,
  defaultRepeat: 'on-change',
  output: z.object({
    event_id: z.string().describe('Google Calendar event id.'),
    html_link: z.string().nullable().describe('Link to the event in Google Calendar.'),
    status: z.string().describe('confirmed, tentative or cancelled.'),
    updated: z.boolean().describe('True when the step found the event of this call and updated it, false when it created it.'),
  }),
  async execute(req, ctx, google) {
    const times = eventTimes(req);
    if (!times.ok) throw new PermanentError(`${times.path}: ${times.message}`); // the schema's check: not reached
    const calendarId = req.calendar_id ?? google.calendarId;
    const properties: Record<string, string> = { [CALL_PROPERTY]: req.call_id, ...(req.event_key ? { [KEY_PROPERTY]: req.event_key } : {}) };
    const event: Event = present({
      summary: req.summary,
      description: req.description,
      location: req.location,
      start: times.start,
      end: times.end,
      extendedProperties: { private: properties },
    });
    const sendUpdates = req.send_updates ?? undefined;
    return google.withCalendar(ctx, 'book event', async (calendar, options) => {
      const found = await during('search events', () => findEvent(calendar, options, calendarId, properties));
      if (found) {
        const patch = req.attendees ? { ...event, attendees: keepAttendees(found.attendees ?? [], req.attendees) } : event;
        const res = await during('update event', () => calendar.events.patch({ calendarId, eventId: found.id!, sendUpdates, requestBody: patch }, options));
        return output(res.data, true);
      }
      const created = req.attendees ? { ...event, attendees: req.attendees.map((address) => ({ email: address })) } : event;
      const res = await during('create event', () => calendar.events.insert({ calendarId, sendUpdates, requestBody: created }, options));
      return output(res.data, false);
    });
  },
});

/** The event with all of `properties` (not cancelled ones: Google leaves them out by default). */
async function findEvent(calendar: CalendarApi, options: CallOptions, calendarId: string, properties: Record<string, string>): Promise<Event | null> {
  const privateExtendedProperty = Object.entries(properties).map(([name, value]) => `${name}=${value}`);
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_SEARCH_PAGES; page++) {
    const res = await calendar.events.list({ calendarId, privateExtendedProperty, maxResults: 10, pageToken }, options);
    // Google matches the properties asked for; an event with a key must not answer a search without one.
    const key = properties[KEY_PROPERTY];
    const match = res.data.items?.find((e) => typeof e.id === 'string' && e.extendedProperties?.private?.[KEY_PROPERTY] === key);
    if (match) return match;
    pageToken = res.data.nextPageToken ?? undefined;
    if (!pageToken) return null;
  }
  // Creating now could duplicate an event on a later page.
  throw new TransientError(`Google Calendar (search events): still more results after ${MAX_SEARCH_PAGES} pages; not booking an event that may exist`);
}

/**
 * The attendees a patch sets (a patch replaces the list): the wanted addresses, each keeping what
 * Google has of it already (its response status, display name), so an update does not reset them.
 */
function keepAttendees(existing: NonNullable<Event['attendees']>, wanted: string[]): NonNullable<Event['attendees']> {
  const known = new Map(existing.filter((a) => a.email).map((a) => [a.email!.toLowerCase(), a]));
  return wanted.map((address) => known.get(address.toLowerCase()) ?? { email: address });
}

function output(data: Event, updated: boolean) {
  if (typeof data.id !== 'string') throw new PermanentError('Google Calendar (book event): the answer has no event id');
  return { event_id: data.id, html_link: data.htmlLink ?? null, status: data.status ?? 'confirmed', updated };
}
