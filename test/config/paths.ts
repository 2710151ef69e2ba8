/** Locations of test inputs, valid from the compiled test directory and from the project root. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** fixtures/keepalived of this project (the compiled test sits three levels below the root). */
export const FIXTURES = resolve(here, '../../../fixtures/keepalived');

/**
 * fixtures/keepalived/features: configs written for this project in the shapes keepalived's
 * own doc/samples use. (keepalived's samples themselves are reference material outside the
 * repository; tests never read them.)
 */
export const FEATURES = resolve(here, '../../../fixtures/keepalived/features');
