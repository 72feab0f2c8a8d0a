import { Connection } from 'jsforce';
import {
  API_VERSION,
  CLIENT_ID,
  rejectionOf,
  startSalesforce,
  type SalesforceHarness,
} from './salesforce-harness';

let sf: SalesforceHarness;

beforeAll(async () => {
  sf = await startSalesforce();
});
afterAll(() => sf.close());
beforeEach(() => sf.service.reset());

describe('Salesforce sandbox: OAuth and sessions', () => {
  it('authorizes with client credentials and answers like Salesforce', async () => {
    const conn = new Connection({
      oauth2: { loginUrl: sf.loginUrl, clientId: CLIENT_ID, clientSecret: 'sandbox-secret' },
      version: API_VERSION,
    });
    const userInfo = await conn.authorize({ grant_type: 'client_credentials' });
    expect(conn.instanceUrl).toBe(sf.loginUrl);
    expect(conn.accessToken).toMatch(/^00D\w{12}!/);
    expect(userInfo.organizationId).toMatch(/^00D\w{15}$/);
    expect(userInfo.id).toMatch(/^005\w{15}$/);
    expect(conn.refreshToken).toBeFalsy(); // client credentials never grant one
  });

  it('returns the token answer fields jsforce reads', async () => {
    const res = await fetch(`${sf.loginUrl}/services/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: CLIENT_ID,
        client_secret: 'sandbox-secret',
      }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, string>;
    expect(Object.keys(body).sort()).toEqual(
      ['access_token', 'id', 'instance_url', 'issued_at', 'scope', 'signature', 'token_type'].sort(),
    );
    expect(body.token_type).toBe('Bearer');
    expect(body.id).toMatch(new RegExp(`^${sf.loginUrl}/id/00D\\w{15}/005\\w{15}$`));
  });

  it('rejects a wrong secret with invalid_client', async () => {
    const conn = new Connection({
      oauth2: { loginUrl: sf.loginUrl, clientId: CLIENT_ID, clientSecret: 'wrong' },
      version: API_VERSION,
    });
    const err = await rejectionOf(conn.authorize({ grant_type: 'client_credentials' }));
    expect(err.name).toBe('invalid_client');
    expect(err.message).toBe('invalid client credentials');
  });

  it('supports the OAuth password flow through conn.login', async () => {
    const conn = new Connection({
      oauth2: { loginUrl: sf.loginUrl, clientId: CLIENT_ID, clientSecret: 'sandbox-secret' },
      version: API_VERSION,
    });
    await conn.login('integration@clerk-sync.sandbox', 'sandbox-password');
    expect(await conn.sobject('Account').count()).toBe(0);
    const bad = new Connection({
      oauth2: { loginUrl: sf.loginUrl, clientId: CLIENT_ID, clientSecret: 'sandbox-secret' },
      version: API_VERSION,
    });
    const err = await rejectionOf(bad.login('integration@clerk-sync.sandbox', 'nope'));
    expect(err.name).toBe('invalid_grant');
  });

  it('answers 401 INVALID_SESSION_ID once sessions expire, which jsforce cannot refresh by itself', async () => {
    const conn = new Connection({
      oauth2: { loginUrl: sf.loginUrl, clientId: CLIENT_ID, clientSecret: 'sandbox-secret' },
      version: API_VERSION,
    });
    await conn.authorize({ grant_type: 'client_credentials' });
    sf.service.expireSessions();
    const err = await rejectionOf(conn.query('SELECT Id FROM Account'));
    expect(err.message).toContain('No refresh token found in the connection');

    const res = await fetch(`${sf.loginUrl}/services/data/v${API_VERSION}/limits`, {
      headers: { authorization: `Bearer ${conn.accessToken ?? ''}` },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual([
      { message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' },
    ]);
  });

  it('re-authorizes through a client-credentials refreshFn after expiry', async () => {
    const conn = await sf.connect();
    const before = conn.accessToken;
    await conn.sobject('Account').create({ Name: 'Before expiry' });
    sf.service.expireSessions();
    const accounts = await conn.sobject('Account').find({}, ['Name']);
    expect(accounts).toEqual([expect.objectContaining({ Name: 'Before expiry' })]);
    expect(conn.accessToken).not.toBe(before);
  });

  it('refreshes a refresh token through the refresh_token grant', async () => {
    const refreshToken = sf.service.issueRefreshToken();
    const conn = new Connection({
      oauth2: { loginUrl: sf.loginUrl, clientId: CLIENT_ID, clientSecret: 'sandbox-secret' },
      instanceUrl: sf.loginUrl,
      refreshToken,
      version: API_VERSION,
    });
    // No access token yet: the first call answers 401 and jsforce's own oauthRefreshFn gets one.
    expect(await conn.sobject('Contact').count()).toBe(0);
    expect(conn.accessToken).toBeTruthy();
  });

  it('lists API versions without a session or a counted call', async () => {
    const res = await fetch(`${sf.loginUrl}/services/data/`);
    const versions = (await res.json()) as { version: string; url: string; label: string }[];
    expect(versions).toContainEqual({ label: "Winter '25", url: '/services/data/v62.0', version: '62.0' });
    expect(sf.service.apiUsage().used).toBe(0);
  });
});
