/**
 * The config layer's public face: the option types and the functions that validate them
 * (`src/index.ts` and the other layers import from here). The work is done in:
 *
 * - `types.ts`: `ServerOptions`, `ResolvedOptions` and the block types;
 * - `table.ts`: one row per option (validation, default, config keys, reload, config writing);
 * - `resolve.ts`, `resolve-blocks.ts`, `resolve-auth.ts`, `validate.ts`: `resolveOptions()`;
 * - `duration.ts`: Go durations; `reload.ts`: what a reload may change (`checkReload`);
 * - `conf.ts`, `from-conf.ts`, `to-conf.ts`: nats-server's config file, read and written.
 */
export type * from './types.js';
export { resolveOptions } from './resolve.js';
export { BACKEND_ENV, parseRouteUrl } from './resolve-blocks.js';
export { parseDuration, parseDurationMs } from './duration.js';
