// Vendor SDKs are imported on first use, so start-up and the CLI stay fast.

/**
 * `load` (a dynamic import of an SDK) run once and its promise kept: a repeated `import()` of a
 * loaded module still resolves it each time. A failed load is tried again on the next call.
 */
export function lazyImport<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | null = null;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = null;
      throw error;
    }));
}
