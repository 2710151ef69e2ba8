/** Locations of test inputs, valid from the compiled test directory and from the project root. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** fixtures/keepalived of this project (the compiled test sits three levels below the root). */
export const FIXTURES = resolve(here, '../../../fixtures/keepalived');

/**
 * /work/shared/keepalived-samples: beside the clone (process.cwd() is the
 * project root under tap). Returns undefined when absent so the caller fails
 * loudly instead of passing silently.
 */
export function findSamplesDir(): string | undefined {
  const candidates = [resolve(process.cwd(), '../shared/keepalived-samples'), resolve(here, '../../../../shared/keepalived-samples')];
  return candidates.find((c) => existsSync(c));
}
