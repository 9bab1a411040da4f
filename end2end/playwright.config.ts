import { defineConfig } from '@playwright/test';

// Ports of their own, so a portal running from `.ci/dev` does not get in the way.
const portalPort = Number(process.env.E2E_PORTAL_PORT ?? 3100);
const idpPort = Number(process.env.E2E_IDP_PORT ?? 3105);
const portal = `http://127.0.0.1:${portalPort}`;
const issuer = `http://127.0.0.1:${idpPort}`;

if (!process.env.DATABASE_URL) {
  throw new Error('DATABASE_URL is not set: run the browser tests through `bash .ci/test`, which starts a throwaway PostgreSQL');
}

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL: portal,
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--disable-quic'],
    },
    trace: 'retain-on-failure',
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: [
    {
      command: 'node idp/server.mjs',
      url: `${issuer}/.well-known/openid-configuration`,
      env: { IDP_PORT: String(idpPort), PORTAL_URL: portal },
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      // The binary is built by `cargo leptos build` beforehand (STYLE P12); the demo data gives the users' partners.
      command: 'sh -c "target/debug/stackbill demo && exec target/debug/stackbill serve"',
      cwd: '..',
      url: `${portal}/healthz`,
      env: {
        DATABASE_URL: process.env.DATABASE_URL!,
        LEPTOS_OUTPUT_NAME: 'stackbill',
        LEPTOS_SITE_ROOT: 'target/site',
        LEPTOS_SITE_PKG_DIR: 'pkg',
        LEPTOS_SITE_ADDR: `127.0.0.1:${portalPort}`,
        LEPTOS_RELOAD_PORT: String(portalPort + 1),
        STACKBILL_PUBLIC_URL: portal,
        OIDC_ISSUER_URL: issuer,
        OIDC_CLIENT_ID: 'stackbill',
        OIDC_CLIENT_SECRET: 'stackbill-dev-secret',
        RUST_LOG: 'info,sqlx=warn',
        // The date sweep pins the portal's clock (and the demo's) to the day it tests.
        ...(process.env.STACKBILL_CLOCK
          ? { STACKBILL_CLOCK: process.env.STACKBILL_CLOCK, STACKBILL_CLOCK_SINCE: process.env.STACKBILL_CLOCK_SINCE ?? '' }
          : {}),
      },
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: 'pipe',
    },
  ],
});
