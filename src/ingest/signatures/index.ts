// Each platform's own signature scheme, by platform (src/payload/platforms/index.ts lists the platforms).
import type { OtherPlatform } from '../../payload/call.js';
import { blandSignature } from './bland.js';
import { elevenlabsSignature } from './elevenlabs.js';
import { retellSignature } from './retell.js';
import { synthflowSignature } from './synthflow.js';
import { vapiSignature } from './vapi.js';
import type { SignatureScheme } from './signature-scheme.js';

export const SIGNATURE_SCHEMES: Record<OtherPlatform, SignatureScheme> = {
  bland: blandSignature,
  retell: retellSignature,
  synthflow: synthflowSignature,
  vapi: vapiSignature,
  elevenlabs: elevenlabsSignature,
};
