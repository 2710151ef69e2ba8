/** Locations of test inputs, valid from the compiled test directory and from the project root. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** fixtures/keepalived of this project (the compiled test sits three levels below the root). */
export const FIXTURES = resolve(here, '../../../fixtures/keepalived');

/** fixtures/keepalived-samples: keepalived's doc/samples files, vendored unchanged (see its README). */
export const SAMPLES = resolve(here, '../../../fixtures/keepalived-samples');
