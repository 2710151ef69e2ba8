/**
 * Entry points: read a keepalived.conf (with its includes), build the block
 * tree and interpret the top-level keywords (lib/parser.c `init_data` with
 * the global, check and vrrp keyword tables).
 */
import { resolve as resolvePath } from 'node:path';
import { ConfigError, type ConfigWarning } from '../errors.js';
import { Diagnostics } from './diagnostics.js';
import { parseGlobalDefs } from './global-defs.js';
import { expandIncludes } from './include.js';
import { buildTree } from './parser.js';
import { resolveVirtualServer } from './resolve.js';
import type { KeepalivedConfig, VirtualServerGroup } from './schema.js';
import { memoryConfigSource, nodeConfigSource, type ConfigSource } from './source.js';
import { parseVirtualServer, parseVirtualServerGroup, type VirtualServerDraft } from './virtual-server.js';
import { parseVrrpInstance, parseVrrpScript, parseVrrpSyncGroup } from './vrrp.js';

export interface LoadResult {
  readonly config: KeepalivedConfig;
  readonly warnings: ConfigWarning[];
}

export interface LoadOptions {
  /**
   * Collect the errors of each top-level block here and go on with the next block
   * (lb --config-test reports them all); without it the first error is thrown.
   * Errors of the file structure (braces, includes, quoting) are still thrown.
   */
  readonly errors?: ConfigError[];
}

/** Top-level blocks keepalived knows that this project does not use. */
const IGNORED_TOP_LEVEL = new Set([
  'SSL', 'static_ipaddress', 'static_routes', 'static_rules', 'track_group', 'garp_group', 'linkbeat_interfaces',
  'vrrp_track_process', 'track_file', 'vrrp_track_file', 'bfd_instance', 'interface_up_down_delays', 'net_namespace',
  'net_namespace_ipvs', 'instance', 'use_pid_dir', 'include_check',
]);

/** Keywords that always open a block; lets the tree builder name a missing `{`. */
const BLOCK_KEYWORDS = new Set([
  'global_defs', 'virtual_server', 'virtual_server_group', 'real_server', 'TCP_CHECK', 'HTTP_GET', 'SSL_GET', 'DNS_CHECK',
  'MISC_CHECK', 'SMTP_CHECK', 'UDP_CHECK', 'PING_CHECK', 'FILE_CHECK', 'BFD_CHECK', 'url', 'vrrp_instance',
  'vrrp_sync_group', 'vrrp_script', 'virtual_ipaddress', 'virtual_ipaddress_excluded', 'authentication', 'unicast_peer',
  'track_interface', 'track_script',
]);

/**
 * Loads `path` and everything it includes from the file system.
 * Throws ConfigError on syntax errors; everything else is a warning.
 */
export function loadKeepalivedConfig(path: string, opts: LoadOptions = {}): LoadResult {
  const file = resolvePath(path);
  const source = nodeConfigSource();
  return parseWithSource(source.readFile(file), file, source, opts);
}

/**
 * Parses `text` as the content of `fileName`. Includes are resolved through
 * `readFile`: a ConfigSource, or a map of path -> text (default: none).
 */
export function parseKeepalivedText(
  text: string,
  fileName: string,
  readFile?: ConfigSource | Readonly<Record<string, string>>,
): LoadResult {
  const source = readFile === undefined ? memoryConfigSource({}) : isSource(readFile) ? readFile : memoryConfigSource(readFile);
  return parseWithSource(text, fileName, source);
}

function isSource(x: ConfigSource | Readonly<Record<string, string>>): x is ConfigSource {
  return typeof (x as ConfigSource).readFile === 'function' && typeof (x as ConfigSource).listDir === 'function';
}

function parseWithSource(text: string, fileName: string, source: ConfigSource, opts: LoadOptions = {}): LoadResult {
  const diag = new Diagnostics();
  const collect = (fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      if (opts.errors && err instanceof ConfigError) opts.errors.push(err);
      else throw err;
    }
  };
  const { lines, files } = expandIncludes(text, fileName, source, diag);
  const tree = buildTree(lines, BLOCK_KEYWORDS);
  const config: KeepalivedConfig = {
    globalDefs: { entries: [] }, virtualServerGroups: [], virtualServers: [], vrrpInstances: [],
    vrrpSyncGroups: [], vrrpScripts: [], files,
  };
  const drafts: VirtualServerDraft[] = [];
  for (const node of tree) collect(() => {
    switch (node.keyword) {
      case 'global_defs': parseGlobalDefs(node, config.globalDefs, diag); break;
      case 'virtual_server': drafts.push(parseVirtualServer(node, diag)); break;
      case 'virtual_server_group': {
        const g = parseVirtualServerGroup(node, diag);
        if (g) config.virtualServerGroups.push(g);
        break;
      }
      case 'vrrp_instance': config.vrrpInstances.push(parseVrrpInstance(node, diag)); break;
      case 'vrrp_sync_group': config.vrrpSyncGroups.push(parseVrrpSyncGroup(node, diag)); break;
      case 'vrrp_script': config.vrrpScripts.push(parseVrrpScript(node, diag)); break;
      default:
        if (IGNORED_TOP_LEVEL.has(node.keyword)) diag.warn(node, node.keyword, 'not supported - ignored');
        else diag.warn(node, node.keyword, 'unknown keyword - ignored');
    }
  });
  // vrrp_parser.c vrrp_lvs_syncd_handler: the deprecated per-instance form sets the global one.
  for (const vi of config.vrrpInstances) {
    if (vi.lvsSyncDaemonInterface !== undefined && !config.globalDefs.lvsSyncDaemon) {
      config.globalDefs.lvsSyncDaemon = { interface: vi.lvsSyncDaemonInterface, instance: vi.name, source: vi.source };
    }
  }
  const groups = new Map<string, VirtualServerGroup>(config.virtualServerGroups.map((g) => [g.name, g]));
  for (const d of drafts) collect(() => {
    const vs = resolveVirtualServer(d, groups, diag);
    if (vs) config.virtualServers.push(vs);
  });
  return { config, warnings: diag.warnings };
}

