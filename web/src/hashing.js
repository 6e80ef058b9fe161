// What a declaration says about the bytes: SHA-256 (hex) by Web Crypto, MD5 (base64) by
// @noble/hashes (audited, no dependencies), both over the same bytes read once.
//
// Web Crypto has no streaming digest, so SHA-256 needs the whole file in memory once; MD5 is fed
// in slices so the page stays responsive and can show real hashing progress.

import { md5 } from '@noble/hashes/legacy.js';

const SLICE_BYTES = 4 * 1024 * 1024;

/** Lowercase hex of bytes. */
export function toHex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Standard base64 (with padding) of bytes. */
export function toBase64(bytes) {
  let binary = '';
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * SHA-256 and MD5 of a file or blob.
 * @param {Blob} file
 * @param {(fraction: number) => void} [onProgress] 0..1 as MD5 advances
 * @returns {Promise<{sha256: string, md5: string, size: number}>}
 */
export async function digestFile(file, onProgress) {
  const buffer = await file.arrayBuffer();
  const sha = crypto.subtle.digest('SHA-256', buffer);
  const hash = md5.create();
  const bytes = new Uint8Array(buffer);
  for (let start = 0; start < bytes.length; start += SLICE_BYTES) {
    hash.update(bytes.subarray(start, Math.min(bytes.length, start + SLICE_BYTES)));
    if (onProgress) onProgress(Math.min(1, (start + SLICE_BYTES) / bytes.length));
    // Yield to the page between slices.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  if (onProgress) onProgress(1);
  return { sha256: toHex(await sha), md5: toBase64(hash.digest()), size: bytes.length };
}
