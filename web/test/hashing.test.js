import { describe, expect, it } from 'vitest';
import { digestFile, toBase64, toHex } from '../src/hashing.js';

describe('digestFile', () => {
  it('gives the SHA-256 (hex) and MD5 (base64) a declaration carries', async () => {
    // RFC 1321 and FIPS 180-2 test vectors for "abc"
    const file = new Blob([new TextEncoder().encode('abc')]);
    const facts = await digestFile(file);
    expect(facts.sha256).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(facts.md5).toBe(toBase64(Uint8Array.from([0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2, 0x4f, 0xb0, 0xd6, 0x96, 0x3f, 0x7d, 0x28, 0xe1, 0x7f, 0x72])));
    expect(facts.size).toBe(3);
  });

  it('feeds MD5 in slices and reports progress up to 1', async () => {
    const bytes = new Uint8Array(9 * 1024 * 1024).map((_, i) => i % 251);
    const seen = [];
    const facts = await digestFile(new Blob([bytes]), (f) => seen.push(f));
    const { createHash } = await import('node:crypto');
    expect(facts.md5).toBe(createHash('md5').update(bytes).digest('base64'));
    expect(facts.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(seen.at(-1)).toBe(1);
    expect(seen.length).toBeGreaterThan(2);
  });

  it('encodes hex and base64 like the API expects', () => {
    expect(toHex(Uint8Array.from([0, 15, 255]))).toBe('000fff');
    expect(toBase64(Uint8Array.from([251, 255]))).toBe('+/8=');
  });
});
