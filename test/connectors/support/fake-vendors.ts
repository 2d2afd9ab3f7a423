// The stateful vendor fakes live in src/sandbox (aftercall sandbox serves them too).
export * from '../../../src/sandbox/fake-vendors.js';
