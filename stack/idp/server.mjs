// The local stack's OpenID Connect provider, standing in for Clerk (DESIGN.md §6).
//
// panva's oidc-provider (OpenID certified), shaped like a Clerk instance's OAuth endpoints:
//   authorize /oauth/authorize, token /oauth/token, userinfo /oauth/userinfo,
//   revocation /oauth/revoke, JWKS /.well-known/jwks.json, discovery
//   /.well-known/openid-configuration, issuer http://127.0.0.1:<port>.
// Public client `bookwish-desktop` (no secret, PKCE S256 required, redirect
// bookwish://auth/callback, scopes openid email profile offline_access). Access tokens are JWTs
// (resource indicators) for the audience BOOKWISH_IDP_AUDIENCE, without a `role` claim, like
// Clerk OAuth access tokens. The client `bookwish-session` is the same but its access tokens
// carry `role: authenticated`, like Clerk session tokens. Refresh tokens rotate; reusing a
// rotated one revokes the grant. Note: oidc-provider issues a refresh token only when the
// authorization request carries prompt=consent together with offline_access.
//
// Login is a minimal form: GET /interaction/:uid shows it, POST /interaction/:uid/login takes
// username + password (urlencoded) and grants the requested scopes at once (no consent page).
// A wrong password answers 401 with the form again.
//
// POST /test/rotate-signing-key rotates the signing key as a real provider does: a new key signs
// from then on, the old one stays published in the JWKS, and grants and refresh tokens survive
// (they live in one in-memory store that every provider object of this process shares). The
// new key is persisted like the first. For tests of clients that must re-fetch
// the JWKS; this provider only ever listens on loopback.
//
// Environment:
//   BOOKWISH_IDP_PORT         port on 127.0.0.1 (required)
//   BOOKWISH_IDP_DIR          directory for keys (created once, kept) and the public JWKS
//   BOOKWISH_IDP_JWKS_OUT     where to write the public JWKS for PostgREST (default DIR/jwks.json)
//   BOOKWISH_IDP_AUDIENCE     access token audience (default "bookwish")
//   BOOKWISH_IDP_ACCESS_TTL   access token lifetime in seconds (default 3600; small for expiry tests)
//   BOOKWISH_IDP_USERS        JSON array of {username, password, sub, email, name} (default below)

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import Provider, { errors } from 'oidc-provider';
// The same in-memory store the provider uses by default, made once and handed to every
// provider object of this process, so sessions and refresh tokens survive a key rotation.
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

const port = Number(process.env.BOOKWISH_IDP_PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error('BOOKWISH_IDP_PORT must be a port number');
  process.exit(2);
}
const dir = process.env.BOOKWISH_IDP_DIR ?? path.join(process.cwd(), '.stack', 'idp');
const jwksOut = process.env.BOOKWISH_IDP_JWKS_OUT ?? path.join(dir, 'jwks.json');
const audience = process.env.BOOKWISH_IDP_AUDIENCE ?? 'bookwish';
const accessTtl = Number(process.env.BOOKWISH_IDP_ACCESS_TTL ?? 3600);
const issuer = `http://127.0.0.1:${port}`;
const resource = 'urn:bookwish:api';
const redirectUri = 'bookwish://auth/callback';
const scopes = ['openid', 'email', 'profile', 'offline_access'];

const users = process.env.BOOKWISH_IDP_USERS
  ? JSON.parse(process.env.BOOKWISH_IDP_USERS)
  : [
      { username: 'alice', password: 'alice-wonderland', sub: 'user_alice2bW9kQ4mX7rT1nV8', email: 'alice@bookwish.test', name: 'Alice Liddell' },
      { username: 'bob', password: 'bob-builder', sub: 'user_bob2cX8jP3nW6sR0mU7e', email: 'bob@bookwish.test', name: 'Bob Builder' },
    ];
const bySub = new Map(users.map((u) => [u.sub, u]));
const byName = new Map(users.map((u) => [u.username, u]));

// Signing keys: made once, kept on disk, so tokens stay valid across restarts of the stack.
const keyFile = path.join(dir, 'signing-keys.json');

function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), alg: 'RS256', use: 'sig', kid: crypto.randomUUID() };
}

// Persists `keys` (the first signs) and publishes their public halves for PostgREST.
function saveKeys(keys) {
  fs.writeFileSync(keyFile, JSON.stringify({ keys }, null, 2), { mode: 0o600 });
  const pub = keys.map(({ kty, n, e, alg, use, kid }) => ({ kty, n, e, alg, use, kid }));
  fs.writeFileSync(`${jwksOut}.tmp`, JSON.stringify({ keys: pub }));
  fs.renameSync(`${jwksOut}.tmp`, jwksOut);
}

async function loadKeys() {
  fs.mkdirSync(dir, { recursive: true });
  if (!fs.existsSync(keyFile)) {
    saveKeys([newSigningKey()]);
  }
  const keys = JSON.parse(fs.readFileSync(keyFile, 'utf8')).keys;
  saveKeys(keys);
  let cookieKey;
  const cookieFile = path.join(dir, 'cookie-key');
  if (fs.existsSync(cookieFile)) {
    cookieKey = fs.readFileSync(cookieFile, 'utf8');
  } else {
    cookieKey = crypto.randomBytes(32).toString('base64url');
    fs.writeFileSync(cookieFile, cookieKey, { mode: 0o600 });
  }
  return { keys, cookieKey };
}

let { keys, cookieKey } = await loadKeys();

const nativeClient = (clientId) => ({
  client_id: clientId,
  application_type: 'native',
  token_endpoint_auth_method: 'none',
  redirect_uris: [redirectUri],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  scope: scopes.join(' '),
});

const adapter = createMemoryAdapter(0);

const makeProvider = (signingKeys) => new Provider(issuer, {
  adapter,
  clients: [nativeClient('bookwish-desktop'), nativeClient('bookwish-session')],
  pkce: { required: () => true },
  scopes,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  },
  // Put the profile and email claims in the ID token too, as Clerk does.
  conformIdTokenClaims: false,
  async findAccount(_ctx, sub) {
    const user = bySub.get(sub);
    if (!user) return undefined;
    const [given, ...family] = user.name.split(' ');
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          email: user.email,
          email_verified: true,
          name: user.name,
          given_name: given,
          family_name: family.join(' '),
          preferred_username: user.username,
        };
      },
    };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo(_ctx, indicator) {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return {
          scope: scopes.join(' '),
          audience,
          accessTokenTTL: accessTtl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  async extraTokenClaims(_ctx, token) {
    // Clerk session tokens carry role: authenticated; its OAuth access tokens carry no role.
    if (token.kind === 'AccessToken' && token.clientId === 'bookwish-session') {
      return { role: 'authenticated' };
    }
    return undefined;
  },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: accessTtl,
    AuthorizationCode: 60,
    IdToken: 3600,
    Interaction: 600,
    Grant: 14 * 24 * 3600,
    Session: 14 * 24 * 3600,
    RefreshToken: 14 * 24 * 3600,
  },
  routes: {
    authorization: '/oauth/authorize',
    token: '/oauth/token',
    userinfo: '/oauth/userinfo',
    jwks: '/.well-known/jwks.json',
    revocation: '/oauth/revoke',
    end_session: '/oauth/end_session',
  },
  jwks: { keys: signingKeys },
  cookies: { keys: [cookieKey] },
  clientBasedCORS: () => true,
  async renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});

let provider = makeProvider(keys);
let callback = provider.callback();

function rotateSigningKey() {
  keys = [newSigningKey(), ...keys];
  saveKeys(keys);
  provider = makeProvider(keys);
  callback = provider.callback();
  return keys[0].kid;
}

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, clientId, message) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>Sign in to Bookwish (local)</title>
<style>body{font:16px system-ui;max-width:22rem;margin:4rem auto;padding:0 1rem}
input,button{display:block;width:100%;margin:.4rem 0;padding:.5rem;font:inherit}
.err{color:#b00020}</style></head><body>
<h1>Bookwish local sign-in</h1><p>Client: ${escape(clientId)}</p>
${message ? `<p class="err">${escape(message)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<input name="username" placeholder="username (alice or bob)" autofocus>
<input name="password" type="password" placeholder="password">
<button type="submit">Sign in</button></form></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// Grants everything the client asked for (the user just signed in: no consent page).
async function grantAll(details, accountId) {
  const { params, prompt } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope ?? 'openid'));
  if (prompt.details?.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  grant.addResourceScope(resource, String(params.scope ?? 'openid'));
  for (const [indicator, s] of Object.entries(prompt.details?.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, s.join(' '));
  }
  return grant.save();
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('interaction mismatch');
    return;
  }
  const html = (status, body) => res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);

  if (details.prompt.name === 'consent' && details.session?.accountId) {
    const grantId = await grantAll(details, details.session.accountId);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (!action) {
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    html(200, loginPage(uid, details.params.client_id));
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405).end();
    return;
  }
  const form = await readForm(req);
  const user = byName.get(form.get('username') ?? '');
  const password = Buffer.from(form.get('password') ?? '');
  const expected = Buffer.from(user?.password ?? '');
  const ok = user && password.length === expected.length && crypto.timingSafeEqual(password, expected);
  if (!ok) {
    html(401, loginPage(uid, details.params.client_id, 'Unknown user or wrong password.'));
    return;
  }
  const grantId = await grantAll(details, user.sub);
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.sub }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, issuer);
  if (url.pathname === '/test/rotate-signing-key' && req.method === 'POST') {
    const kid = rotateSigningKey();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kid }));
    return;
  }
  const m = url.pathname.match(/^\/interaction\/([A-Za-z0-9_-]+)(\/login)?$/);
  if (!m) {
    callback(req, res);
    return;
  }
  try {
    await interaction(req, res, m[1], Boolean(m[2]));
  } catch (err) {
    if (!res.headersSent) {
      res.writeHead(400, { 'content-type': 'application/json' });
    }
    res.end(JSON.stringify({ error: err.name ?? 'error', error_description: err.message }));
  }
});

server.listen(port, '127.0.0.1', () => {
  console.log(`bookwish idp listening on ${issuer} (audience ${audience}, access token ttl ${accessTtl}s)`);
});

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
