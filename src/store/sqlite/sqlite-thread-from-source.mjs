// Starts sqlite-thread.ts from the TypeScript sources (tests, `npm run dev`): a worker thread
// does not inherit the parent's loader, so it registers tsx itself. The built service starts
// the compiled sqlite-thread.js directly and never loads this file.
import { register } from 'tsx/esm/api';

register();
await import('./sqlite-thread.ts');
