// A real OpenID provider on 127.0.0.1 for the staff sign-in tests: the npm package
// `oidc-provider` (pinned in package-lock.json), with its own login page, a few staff accounts
// with groups, one confidential client, and a switch the tests use to make the next token
// answer misbehave (another audience, another nonce, a key the provider does not publish) so
// that each check Gatehouse makes is seen to refuse.
//
//   node oidc_provider.mjs --client-id gatehouse --client-secret s3cret \
//        --redirect-uri http://127.0.0.1:8081/admin/signin/oidc/callback [--code-ttl-secs 60] [--port 0]
//
// Prints "issuer http://127.0.0.1:<port>" once it listens. Accounts: sign in with any password.
import http from 'node:http';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';
import * as jose from 'jose';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'code-ttl-secs': { type: 'string', default: '60' },
  },
});

/** The staff directory: each account's verified email and groups. */
const ACCOUNTS = {
  alice: { email: 'alice@corp.test', name: 'Alice Owner', groups: ['gatehouse-owners', 'staff'] },
  bob: { email: 'bob@corp.test', name: 'Bob Approver', groups: ['gatehouse-approvers', 'staff'] },
  vera: { email: 'vera@corp.test', name: 'Vera Viewer', groups: ['staff'] },
  eve: { email: 'eve@corp.test', name: 'Eve Marketing', groups: ['marketing'] },
};

const alg = 'RS256';
const signing = await jose.generateKeyPair(alg, { extractable: true });
const foreign = await jose.generateKeyPair(alg, { extractable: true });
const privateJwk = { ...(await jose.exportJWK(signing.privateKey)), kid: 'staff-test-key', alg, use: 'sig' };

const server = http.createServer();
await new Promise((resolve) => server.listen(Number(args.port), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    redirect_uris: args['redirect-uri'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [privateJwk] },
  cookies: { keys: ['staff-tests-cookie-key'] },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  // Company IdPs put the groups in the ID token when asked; the default keeps them for userinfo.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  ttl: { AuthorizationCode: Number(args['code-ttl-secs']), IdToken: 3600, Session: 3600, Interaction: 600, Grant: 3600 },
  async findAccount(ctx, id) {
    const account = ACCOUNTS[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email, email_verified: true, name: account.name, groups: account.groups };
      },
    };
  },
  // A first-party client of the company: no consent screen, as a workforce IdP is set up.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid email profile groups');
    await grant.save();
    return grant;
  },
});

// The tests' switch: POST /__test/tamper {"claims": {...}, "foreign_key": bool} makes the next
// token answer carry an ID token with those claims replaced, signed again with the provider's
// own key (or one it does not publish). One use.
let tamper = null;
provider.use(async (ctx, next) => {
  if (ctx.method === 'POST' && ctx.path === '/__test/tamper') {
    const chunks = [];
    for await (const chunk of ctx.req) chunks.push(chunk);
    tamper = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    ctx.status = 204;
    return;
  }
  await next();
  if (ctx.path === '/token' && tamper && ctx.body?.id_token) {
    const { claims = {}, foreign_key: foreignKey = false } = tamper;
    tamper = null;
    const payload = { ...jose.decodeJwt(ctx.body.id_token), ...claims };
    const key = foreignKey ? foreign.privateKey : signing.privateKey;
    ctx.body = { ...ctx.body, id_token: await new jose.SignJWT(payload).setProtectedHeader({ alg, kid: privateJwk.kid }).sign(key) };
  }
});

server.on('request', provider.callback());
console.log(`issuer ${issuer}`);
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
