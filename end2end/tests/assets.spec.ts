import { expect, test } from '@playwright/test';

// The bundle is fingerprinted (its name changes with its content), so browsers keep it a year; it travels compressed.
test('the bundle is fingerprinted, compressed and cached for a year; pages are never stored', async ({ page, request }) => {
  const answer = await page.goto('/');
  expect(answer!.headers()['cache-control']).toBe('no-store');
  const wasm = await page.locator('link[rel="preload"][as="fetch"]').getAttribute('href');
  const css = await page.locator('link[rel="stylesheet"]').getAttribute('href');
  expect(wasm).toMatch(/^\/pkg\/stackbill\.[A-Za-z0-9_-]+\.wasm$/);
  expect(css).toMatch(/^\/pkg\/stackbill\.[A-Za-z0-9_-]+\.css$/);

  for (const asset of [wasm!, css!]) {
    const res = await request.get(asset, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(res.status()).toBe(200);
    expect(res.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(res.headers()['content-encoding']).toBe('br');
  }
});
