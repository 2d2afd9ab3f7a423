// The calling platform's API: which one (the classic API under three brands, or Famulor 2.0),
// where it is, the key, and the limits its docs give. Sources are listed in
// src/connectors/platform/README.md.
import { z } from 'zod';
import { baseUrl, envConfig, type ConnectorConfigOf } from '../connector-config.js';

/** The classic API (`/api/user/...`, numeric ids) or Famulor 2.0 (`/api/v1/...`, UUIDs). */
export type PlatformApi = 'classic' | 'v1';

export const PLATFORMS = {
  autocalls: { api: 'classic', base: 'https://app.autocalls.ai', title: 'autocalls.ai' },
  famulor: { api: 'classic', base: 'https://app.famulor.de', title: 'Famulor' },
  otonistark: { api: 'classic', base: 'https://call.otonistark.com.br', title: 'OtoniStark' },
  famulor2: { api: 'v1', base: 'https://app.famulor.io', title: 'Famulor 2.0' },
} as const satisfies Record<string, { api: PlatformApi; base: string; title: string }>;

export type PlatformName = keyof typeof PLATFORMS;
export const PLATFORM_NAMES = Object.keys(PLATFORMS) as PlatformName[];

/** Path prefix of every endpoint, per API. */
export const API_PREFIX: Record<PlatformApi, string> = { classic: '/api', v1: '/api/v1' };

/** SMS body limits as documented: 300 characters on the classic API, 1600 on 2.0. */
export const SMS_BODY_LIMIT: Record<PlatformApi, number> = { classic: 300, v1: 1600 };

/** Documented rate limit of the classic API: 100 requests a minute, bursts of 20 in 10 seconds. */
export const RATE_WINDOWS = [
  { limit: 100, windowMs: 60_000 },
  { limit: 20, windowMs: 10_000 },
] as const;

/** A phone number as the platform takes it. */
export const E164 = /^\+[1-9]\d{1,14}$/;

export const platformEnv = envConfig(
  z
    .object({
      PLATFORM: z
        .enum(PLATFORM_NAMES as [PlatformName, ...PlatformName[]])
        .optional()
        .describe(
          'Which platform: autocalls, famulor, otonistark (the classic API, https://app.autocalls.ai, https://app.famulor.de, https://call.otonistark.com.br) or famulor2 (https://app.famulor.io/api/v1). Unset with PLATFORM_BASE_URL: the classic API.',
        ),
      PLATFORM_API_KEY: z.string().describe('API key of the platform account (sent as `Authorization: Bearer`); Famulor 2.0 keys start with fam_.'),
      PLATFORM_BASE_URL: baseUrl
        .optional()
        .describe("Replaces the platform's scheme and host (a white-label domain, a self-hosted instance or a local stub); the API paths stay."),
      PLATFORM_SMS_FROM: z
        .string()
        .regex(E164, 'must be an E.164 number like +4915123456789')
        .optional()
        .describe('Default sender of platform.sms.send when a step names none: one of your SMS-capable platform numbers in E.164.'),
    })
    .describe(
      'Requests are spaced by a client-side limiter to the documented 100 a minute (20 in 10 seconds); a 429 answer pauses it for the `retry_after` the platform gives, and the step is retried after that delay.',
    ),
  (values) =>
    !values.PLATFORM && !values.PLATFORM_BASE_URL
      ? 'PLATFORM (autocalls, famulor, otonistark or famulor2) or PLATFORM_BASE_URL'
      : values.PLATFORM === 'famulor2' && !values.PLATFORM_API_KEY.startsWith('fam_')
        ? 'PLATFORM_API_KEY (a Famulor 2.0 workspace key, starting with fam_)'
        : null,
);

export type PlatformConfig = ConnectorConfigOf<typeof platformEnv.schema>;

/** Which API a configuration speaks, and at which base. */
export function platformTarget(config: Pick<PlatformConfig, 'PLATFORM' | 'PLATFORM_BASE_URL'>): { api: PlatformApi; base: string; title: string } {
  const known = config.PLATFORM ? PLATFORMS[config.PLATFORM] : null;
  return {
    api: known?.api ?? 'classic',
    base: config.PLATFORM_BASE_URL ?? known?.base ?? PLATFORMS.autocalls.base,
    title: known?.title ?? 'the platform',
  };
}
