// Signing in. The page holds one bearer token (a JWT the functions verify) in localStorage, so a
// tab opened from the gallery (Ctrl-click on a tile) is signed in too, until the token expires or
// the person signs out in any tab; it has no secret of its own. The OpenID Connect state of a
// sign-in under way stays in sessionStorage (that tab's).
//
// - Local stack: `config.devLoginUrl` (only the stack's web server sets it) mints a user token
//   for the demo user, who owns the demo devices.
// - Cloud: an OpenID Connect provider (`config.oidcIssuer`, `config.oidcClientId`), with the
//   authorization code flow and PKCE for a public client (RFC 7636); the ID token is the bearer
//   token. The functions verify it (JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE = the client id) and
//   need the claim `kind: "user"`: docs/RUNBOOKS/GALLERY.md.

const SESSION_KEY = 'media-gallery.session';
const PENDING_KEY = 'media-gallery.oidc';
export const CALLBACK_PATH = '/auth/callback';
const EXPIRY_MARGIN_SECONDS = 30;

/** The claims of a JWT (not verified: the API verifies; the page only reads `exp`, `sub`). */
export function jwtClaims(token) {
  const part = String(token).split('.')[1];
  if (!part) throw new Error('not a JWT');
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** base64url without padding (RFC 7636 appendix A). */
export function base64url(bytes) {
  let binary = '';
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A PKCE verifier and its S256 challenge. */
export async function pkcePair(random = crypto.getRandomValues(new Uint8Array(32))) {
  const verifier = base64url(random);
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url(digest) };
}

function store(token, method) {
  const claims = jwtClaims(token);
  const session = {
    token,
    method,
    user: claims.email || claims.name || claims.sub,
    subject: claims.sub,
    expiresAt: claims.exp,
  };
  localStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** The stored session as it is (even expired), or null. */
function storedSession() {
  try {
    const session = JSON.parse(localStorage.getItem(SESSION_KEY) || 'null');
    return session && session.token ? session : null;
  } catch {
    return null;
  }
}

/** Whether the session expires (within the margin) before `nowSeconds`. */
export function sessionExpired(session, nowSeconds = Date.now() / 1000) {
  return Boolean(session?.expiresAt && session.expiresAt - EXPIRY_MARGIN_SECONDS < nowSeconds);
}

/** The signed-in session, or null (none, unreadable or expired). */
export function currentSession(nowSeconds = Date.now() / 1000) {
  const session = storedSession();
  return session && !sessionExpired(session, nowSeconds) ? session : null;
}

/** Why there is no session although one was stored ("" when none was, or it is fine). */
export function endedSessionReason(nowSeconds = Date.now() / 1000) {
  const session = storedSession();
  return session && sessionExpired(session, nowSeconds) ? 'Your session expired: sign in again.' : '';
}

/** Milliseconds until the current session expires (its margin included), or null. */
export function msUntilExpiry(session, nowMs = Date.now()) {
  if (!session?.expiresAt) return null;
  return Math.max(0, (session.expiresAt - EXPIRY_MARGIN_SECONDS) * 1000 - nowMs);
}

export function signOut() {
  localStorage.removeItem(SESSION_KEY);
}

/** The storage key of the session (another tab signing out changes it: `storage` events). */
export const SESSION_STORAGE_KEY = SESSION_KEY;

/** The ways this deployment offers to sign in. */
export function signInMethods(config) {
  return {
    dev: Boolean(config.devLoginUrl),
    oidc: Boolean(config.oidcIssuer && config.oidcClientId),
  };
}

/** Local stack: `POST /dev/login` on the page's own server. */
export async function devLogin(config) {
  const response = await fetch(config.devLoginUrl, { method: 'POST' });
  if (!response.ok) {
    throw Object.assign(new Error(`the dev login answered ${response.status}`), {
      code: 'dev_login_failed',
    });
  }
  const body = await response.json();
  return store(body.token, 'dev');
}

async function discovery(issuer) {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  const response = await fetch(url);
  if (!response.ok) {
    throw Object.assign(new Error(`${url} answered ${response.status}`), { code: 'oidc_discovery_failed' });
  }
  return response.json();
}

/** The authorization request URL (OpenID Connect Core 3.1.2.1, with PKCE). */
export function authorizationUrl(endpoint, { clientId, redirectUri, scope, state, nonce, challenge }) {
  const url = new URL(endpoint);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

/** Cloud: go to the identity provider; it comes back to CALLBACK_PATH. */
export async function startOidc(config, returnTo = '/') {
  const meta = await discovery(config.oidcIssuer);
  const { verifier, challenge } = await pkcePair();
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ state, nonce, verifier, returnTo }));
  window.location.assign(
    authorizationUrl(meta.authorization_endpoint, {
      clientId: config.oidcClientId,
      redirectUri: `${window.location.origin}${CALLBACK_PATH}`,
      scope: config.oidcScope || 'openid email profile',
      state,
      nonce,
      challenge,
    }),
  );
}

/**
 * Cloud: back from the identity provider with `?code&state`; exchange the code for tokens and
 * keep the ID token.
 * @returns {Promise<{session: object, returnTo: string}>}
 */
export async function completeOidc(config, search = window.location.search) {
  const params = new URLSearchParams(search);
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null');
  sessionStorage.removeItem(PENDING_KEY);
  const fail = (code, message) => Object.assign(new Error(message), { code });
  if (params.get('error')) {
    throw fail(params.get('error'), params.get('error_description') || 'the identity provider refused the sign-in');
  }
  if (!pending || params.get('state') !== pending.state) {
    throw fail('oidc_state_mismatch', 'this sign-in was not started here; sign in again');
  }
  const meta = await discovery(config.oidcIssuer);
  const response = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: params.get('code') || '',
      redirect_uri: `${window.location.origin}${CALLBACK_PATH}`,
      client_id: config.oidcClientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.id_token) {
    throw fail(body.error || 'oidc_token_failed', body.error_description || `the token endpoint answered ${response.status}`);
  }
  const claims = jwtClaims(body.id_token);
  if (claims.nonce !== pending.nonce) throw fail('oidc_nonce_mismatch', 'the ID token is not for this sign-in');
  return { session: store(body.id_token, 'oidc'), returnTo: pending.returnTo || '/' };
}
