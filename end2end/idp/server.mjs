// Development and test identity provider: panva's oidc-provider on loopback, with the demo users of users.json.
// Its login page takes any password: it is for local use only and never listens beyond 127.0.0.1.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const port = Number(process.env.IDP_PORT ?? 3005);
const issuer = `http://127.0.0.1:${port}`;
const portal = process.env.PORTAL_URL ?? 'http://127.0.0.1:3000';
const users = JSON.parse(readFileSync(new URL('./users.json', import.meta.url), 'utf8'));
delete users._comment;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.OIDC_CLIENT_ID ?? 'stackbill',
    client_secret: process.env.OIDC_CLIENT_SECRET ?? 'stackbill-dev-secret',
    redirect_uris: [`${portal}/auth/callback`],
    post_logout_redirect_uris: [`${portal}/`],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  // Claims listed under `openid` go into the ID token, as Entra ID puts tid and roles there.
  claims: { openid: ['sub', 'tid', 'roles'], profile: ['name'], email: ['email', 'email_verified'] },
  async findAccount(ctx, id) {
    const user = users[id];
    if (!user) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, name: user.name, email: id, email_verified: true, tid: user.tid, roles: user.roles };
      },
    };
  },
  // Stackbill is first-party here: grant its scopes without a consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope('openid profile email');
    await grant.save();
    return grant;
  },
  // Entra ID puts name and email in the ID token too; so does this provider.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['stackbill-dev-idp-cookie-key'] },
  ttl: { Session: 600, Interaction: 600, Grant: 600, IdToken: 600, AccessToken: 600, AuthorizationCode: 60 },
});

// Unknown logins must fail on the login page, not later: the dev login page accepts any name otherwise.
provider.on('server_error', (ctx, err) => console.error('idp server_error', err));

provider.listen(port, '127.0.0.1', () => {
  console.log(`identity provider listening at ${issuer} (users: ${Object.keys(users).join(', ')})`);
});
