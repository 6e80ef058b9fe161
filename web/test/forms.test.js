import { describe, expect, it } from 'vitest';
import { mergePatch } from '../src/editor.js';
import { clipOf } from '../src/jobs.js';
import { shareState } from '../src/shares.js';
import { capturedAt, declaration, newMessageId } from '../src/upload.js';
import { authorizationUrl, base64url, jwtClaims, pkcePair } from '../src/auth.js';
import { formatBytes, formatMs } from '../src/format.js';
import { joinUrl, queryString } from '../src/api.js';

describe('the labels and note editor', () => {
  it('sends only what changed, null to clear the note', () => {
    expect(mergePatch({ labels: ['a'], note: 'x' }, { labels: ['a'], note: 'x' })).toEqual({});
    expect(mergePatch({ labels: ['a'], note: 'x' }, { labels: ['a', 'b'], note: '' })).toEqual({ labels: ['a', 'b'], note: null });
  });
});

describe('a clip range', () => {
  it('is cut when it lies in the video and is not too long', () => {
    expect(clipOf(1000, 2500, 4000)).toEqual({ start_ms: 1000, duration_ms: 1500 });
    expect(clipOf(3000, 9000, 4000)).toEqual({ start_ms: 3000, duration_ms: 1000 });
    expect(clipOf(2000, 2000, 4000).error).toMatch(/after the start/);
    expect(clipOf(0, 70000, 100000).error).toMatch(/at most 60 s/);
  });
});

describe('a share link', () => {
  it('is active, revoked or expired', () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    expect(shareState({ expires_at: '2026-12-01T13:00:00Z' }, now)).toBe('active');
    expect(shareState({ expires_at: '2026-12-01T11:00:00Z' }, now)).toBe('expired');
    expect(shareState({ expires_at: '2026-12-01T13:00:00Z', revoked_at: '2026-12-01T11:30:00Z' }, now)).toBe('revoked');
  });
});

describe('a declaration', () => {
  const file = { name: 'cat.jpg', type: 'image/jpeg', size: 3, lastModified: Date.parse('2026-11-30T10:00:00Z') };
  const facts = { size: 3, sha256: 'ab'.repeat(32), md5: 'kAFQmDzST7DWlj99KOF/cg==' };

  it('names the device and camera and says what the bytes are', () => {
    const body = declaration(file, facts, { deviceId: 'dev-1', cameraId: 'front', labels: ['x'], messageId: 'web-1', now: Date.parse('2026-12-01T00:00:00Z') });
    expect(body).toEqual({
      device_id: 'dev-1',
      camera_id: 'front',
      message_id: 'web-1',
      captured_at: '2026-11-30T10:00:00.000Z',
      mime_type: 'image/jpeg',
      size_bytes: 3,
      sha256: facts.sha256,
      md5: facts.md5,
      original_filename: 'cat.jpg',
      upload_protocol: 'single',
      labels: ['x'],
    });
  });

  it('never dates a capture in the future', () => {
    expect(capturedAt({ lastModified: Date.parse('2030-01-01T00:00:00Z') }, Date.parse('2026-12-01T00:00:00Z'))).toBe('2026-12-01T00:00:00.000Z');
  });

  it('has a message id that is a valid id segment', () => {
    expect(newMessageId(0, new Uint8Array([1, 2, 3, 4, 5, 6]))).toBe('web-0-010203040506');
    expect(newMessageId()).toMatch(/^web-[0-9a-z]+-[0-9a-f]{12}$/);
  });
});

describe('OpenID Connect sign-in', () => {
  it('makes the RFC 7636 S256 challenge of its verifier', async () => {
    // RFC 7636 appendix B
    const random = Uint8Array.from([116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121]);
    const { verifier, challenge } = await pkcePair(random);
    expect(verifier).toBe('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    expect(challenge).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('asks for a code with PKCE', () => {
    const url = new URL(authorizationUrl('https://idp.example/authorize', { clientId: 'gallery', redirectUri: 'https://g.example/auth/callback', scope: 'openid email', state: 's', nonce: 'n', challenge: 'c' }));
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'gallery',
      redirect_uri: 'https://g.example/auth/callback',
      scope: 'openid email',
      state: 's',
      nonce: 'n',
      code_challenge: 'c',
      code_challenge_method: 'S256',
    });
  });

  it('reads the claims of a token', () => {
    const payload = base64url(new TextEncoder().encode(JSON.stringify({ sub: 'ü-user', exp: 5 })));
    expect(jwtClaims(`e30.${payload}.sig`)).toEqual({ sub: 'ü-user', exp: 5 });
  });
});

describe('formatting and URLs', () => {
  it('formats sizes and times as the tiles show them', () => {
    expect(formatBytes(791_614)).toBe('791.6 kB');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatMs(1500)).toBe('0:01.5');
    expect(formatMs(61_250)).toBe('1:01.3');
  });

  it('joins a function URL that has a path, and skips empty parameters', () => {
    expect(joinUrl('https://r-p.cloudfunctions.net/list_media/', '/v1/media')).toBe('https://r-p.cloudfunctions.net/list_media/v1/media');
    expect(queryString({ kind: 'clip', label: '', cursor: undefined, limit: 3 })).toBe('?kind=clip&limit=3');
  });
});
