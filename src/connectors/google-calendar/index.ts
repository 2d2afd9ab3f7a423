// Google Calendar (@googleapis/calendar, google-auth-library): book the call's appointment.
import { defineConnector } from '../connector.js';
import { createGoogleCalendarConnector, googleCalendarEnv } from './client.js';
import { eventCreate } from './steps/event-create.js';

export const googleCalendarSpec = defineConnector({
  name: 'google',
  title: 'Google Calendar',
  config: googleCalendarEnv,
  steps: [eventCreate],
  create: createGoogleCalendarConnector,
});
