// The SMTP stub lives in src/sandbox (aftercall sandbox runs it too).
export * from '../../../src/sandbox/smtp-stub.js';
