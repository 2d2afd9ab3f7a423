// HTTP: forwards to any URL (`http.request`). Its variable is the list of secrets headers may use.
import { z } from 'zod';
import { SECRETS_VARIABLE } from '../../mapping/secrets.js';
import { envConfig } from '../connector-config.js';
import { defineConnector } from '../connector.js';
import { createHttpConnector } from './agents.js';
import { request } from './steps/request.js';

export const httpSpec = defineConnector({
  name: 'http',
  title: 'HTTP',
  config: envConfig(
    z
      .object({
        [SECRETS_VARIABLE]: z
          .string()
          .optional()
          .describe(
            "Environment variables `http.request` headers may use through `{{ $secret('NAME') }}`, comma-separated (e.g. CRM_API_KEY,ERP_TOKEN).",
          ),
      })
      .describe(
        "A secret is read from the environment when the request is sent and never stored: step inputs, the Runs page, the API and logs show `[secret NAME]`, and a value a receiver echoes back is replaced the same way in the step's evidence. " +
          '`aftercall check` refuses `$secret` outside http.request headers, and names that are not declared or not set. ' +
          "The input hash is of `[secret NAME]`, so a rotated secret does not count as a changed input for `repeat: on-change`.",
      ),
  ),
  steps: [request],
  create: createHttpConnector,
});
