// The platform's stand-in lives in src/sandbox (aftercall sandbox serves it too).
export * from '../../../../src/sandbox/fake-platform.js';
