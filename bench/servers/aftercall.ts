// The real service under test: startService from src/service.ts with the configuration the
// parent passes in the environment (SQLite file, mappings folder, token, LOG_LEVEL, ...).
// Prints {"port":N} on stdout once listening; stops gracefully like `aftercall serve`.
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startService } from '../../src/service.js';
import { onStop, ready } from './lifecycle.js';

const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1' });
const service = await startService(config, createLogger(config.LOG_LEVEL));
ready(Number(new URL(service.baseUrl).port));
onStop(() => service.stop());
