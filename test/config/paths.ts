/** Locations of test inputs, valid from the compiled test directory and from the project root. */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** fixtures/keepalived of this project (the compiled test sits three levels below the root). */
export const FIXTURES = resolve(here, '../../../fixtures/keepalived');

/**
 * keepalived's own doc/samples files, read where the project's reference material keeps
 * them (../shared/keepalived-samples beside the repository, as CI lays it out). They are
 * third-party GPL text that is not copied into this repository; from a plain clone without
 * them, the tests that read them are skipped and say why (SAMPLES_MISSING).
 */
export const SAMPLES = resolve(here, '../../../../shared/keepalived-samples');
export const SAMPLES_MISSING: string | false = existsSync(SAMPLES)
  ? false
  : `keepalived's sample configs are not beside the repository (${SAMPLES}); they are reference data kept outside it`;

/** The samples directory, or null when it is not beside the repository (see SAMPLES_MISSING). */
export function findSamplesDir(): string | null {
  return SAMPLES_MISSING ? null : SAMPLES;
}
