/**
 * Where configuration files come from. The parser only ever reads through a
 * ConfigSource, so tests can feed it an in-memory tree and the loader can
 * use the real file system.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { posix } from 'node:path';

export interface ConfigSource {
  /** The file's text; throws when it cannot be read. */
  readFile(path: string): string;
  /** Entry names of a directory, or undefined when `path` is not a readable directory. */
  listDir(path: string): string[] | undefined;
  /** True for an existing regular file (keepalived's `check_glob_file` skips anything else). */
  isFile(path: string): boolean;
}

/** Reads the real file system (synchronously: configs are small and loaded once). */
export function nodeConfigSource(): ConfigSource {
  return {
    readFile: (path) => readFileSync(path, 'utf8'),
    listDir: (path) => {
      try {
        return statSync(path).isDirectory() ? readdirSync(path) : undefined;
      } catch {
        return undefined;
      }
    },
    isFile: (path) => {
      try {
        return statSync(path).isFile();
      } catch {
        return false;
      }
    },
  };
}

/**
 * An in-memory tree: keys are file paths (relative or absolute, POSIX style),
 * values their text. Directories exist implicitly.
 */
export function memoryConfigSource(files: Readonly<Record<string, string>>): ConfigSource {
  const byPath = new Map<string, string>();
  for (const [name, text] of Object.entries(files)) byPath.set(posix.normalize(name), text);
  return {
    readFile: (path) => {
      const text = byPath.get(posix.normalize(path));
      if (text === undefined) throw new Error(`ENOENT: no such file '${path}'`);
      return text;
    },
    listDir: (path) => {
      const dir = posix.normalize(path);
      const prefix = dir === '.' ? '' : dir.endsWith('/') ? dir : `${dir}/`;
      const names = new Set<string>();
      for (const key of byPath.keys()) {
        if (!key.startsWith(prefix) || key === dir) continue;
        const rest = key.slice(prefix.length);
        if (rest === '' || rest.startsWith('../')) continue;
        names.add(rest.split('/')[0]!);
      }
      return names.size > 0 ? [...names] : undefined;
    },
    isFile: (path) => byPath.has(posix.normalize(path)),
  };
}
