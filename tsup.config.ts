import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default defineConfig([
  {
    entry: { index: 'src/index.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    removeNodeProtocol: false,
  },
  {
    // Test-runner helpers: ESM only, as vitest is. global-setup and vitest-setup run in vitest's
    // main process and must not import vitest; only testing/vitest does.
    entry: {
      'testing/vitest': 'src/testing/vitest.ts',
      'testing/global-setup': 'src/testing/global-setup.ts',
      'testing/vitest-setup': 'src/testing/vitest-setup.ts',
    },
    format: ['esm'],
    dts: true,
    sourcemap: true,
    target: 'node20',
    removeNodeProtocol: false,
    // The helpers use the package's main entry, so there is one copy of the server classes.
    external: ['vitest', 'nats-embedded'],
  },
  {
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    sourcemap: true,
    target: 'node20',
    removeNodeProtocol: false,
    banner: { js: '#!/usr/bin/env node' },
    define: { __PKG_VERSION__: JSON.stringify(pkg.version) },
  },
]);
