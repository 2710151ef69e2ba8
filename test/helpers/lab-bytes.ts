/** The bodies the lab server sends and the tests upload, computed independently of it. */
import { createCipheriv, createHash } from 'node:crypto';

/** AES-128-CTR keystream (zero IV): the upload body, and the lab server's /bytes with its key. */
export function aesStream(n: number, key: Buffer): Buffer {
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([c.update(Buffer.alloc(n)), c.final()]);
}

/** scripts/lab-server.mjs labBytes: key = first 16 bytes of sha256("tslb-lab-bytes:" + seed). */
export function labBytes(n: number, seed: string): Buffer {
  return aesStream(n, createHash('sha256').update(`tslb-lab-bytes:${seed}`).digest().subarray(0, 16));
}
