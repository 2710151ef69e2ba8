/** keepalived.conf parser: public API. */
export { loadKeepalivedConfig, parseKeepalivedText, type LoadOptions, type LoadResult } from './load.js';
export { memoryConfigSource, nodeConfigSource, type ConfigSource } from './source.js';
export { ConfigError, formatWarning, type ConfigWarning, type SourceLocation } from '../errors.js';
export type * from './schema.js';
export { LVS_SCHEDULERS, DNS_TYPES } from './schema.js';
