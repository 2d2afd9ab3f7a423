// What every chaos scenario file sets up and tears down: a temp dir, the service it supervises
// and the stub vendors. After the file, the service is killed first (nothing may hold the
// files), then the stubs are closed and the dir removed.
import { afterAll } from 'vitest';
import { tempDir } from '../../support/temp-dir.js';
import type { ServiceSupervisor } from './child-service.js';
import { startVendorStub, type VendorStub } from './vendor-stub.js';

export interface ChaosScenario {
  readonly dir: ReturnType<typeof tempDir>;
  /** The service under test, once started; killed after the file. */
  supervisor: ServiceSupervisor | undefined;
  /** Starts a stub vendor that is closed after the file. */
  stub(options: Parameters<typeof startVendorStub>[0]): Promise<VendorStub>;
}

export function chaosScenario(name: string): ChaosScenario {
  const stubs: VendorStub[] = [];
  const scenario: ChaosScenario = {
    dir: tempDir(`aftercall-chaos-${name}-`),
    supervisor: undefined,
    async stub(options) {
      const stub = await startVendorStub(options);
      stubs.push(stub);
      return stub;
    },
  };
  afterAll(async () => {
    await scenario.supervisor?.kill9();
    for (const stub of stubs) await stub.close();
    scenario.dir.cleanup();
  });
  return scenario;
}
