import { expect, test } from '@playwright/test';
import { sessionCookie, signIn } from './helpers';

test('a partner admin signs in and sees their own stacks only', async ({ page }) => {
  await signIn(page, 'admin@contoso.test');
  await expect(page.getByTestId('who')).toHaveText('Adele Admin');
  await expect(page.getByTestId('role')).toHaveText('Partner admin');
  await expect(page.getByTestId('partner')).toHaveText('Contoso Cloud Services');
  const stacks = page.getByRole('table', { name: 'Stacks' });
  await expect(stacks).toContainText('contoso-ams-01');
  await expect(stacks).toContainText('contoso-fra-02');
  await expect(stacks).not.toContainText('fabrikam-sea-01');
});

test('the operator sees every partner and every stack', async ({ page }) => {
  await signIn(page, 'operator@stackbill.test');
  await expect(page.getByTestId('role')).toHaveText('Operator');
  await expect(page.getByRole('table', { name: 'Partners' })).toContainText('Fabrikam Hosting');
  await expect(page.getByRole('table', { name: 'Stacks' })).toContainText('fabrikam-sea-01');
  await expect(page.getByRole('table', { name: 'Stacks' })).toContainText('contoso-ams-01');
});

test('a user whose claims match no partner sees "No access" and no data', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await page.locator('input[name="login"]').fill('nobody@example.test');
  await page.locator('input[name="password"]').fill('x');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await expect(page).toHaveURL(/\/no-access$/);
  await expect(page.getByRole('heading', { name: 'No access' })).toBeVisible();
  await page.goto('/');
  await expect(page.getByTestId('no-access')).toBeVisible();
  await expect(page.getByRole('table')).toHaveCount(0);
  await expect(page.locator('body')).not.toContainText('contoso');
});

test('signing out ends the session', async ({ page }) => {
  await signIn(page, 'reader@fabrikam.test');
  const before = await sessionCookie(page);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in' }).first()).toBeVisible();
  expect(await sessionCookie(page)).toBeUndefined();
  // The old cookie is worthless now: replaying it shows the signed-out page.
  await page.context().addCookies([{ name: 'stackbill_session', value: before!, url: page.url() }]);
  await page.goto('/');
  await expect(page.getByRole('link', { name: 'Sign in' }).first()).toBeVisible();
  await expect(page.getByTestId('who')).toHaveCount(0);
});

test('the session cookie from before sign-in is not the one after it', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await expect(page.locator('input[name="login"]')).toBeVisible();
  const beforeSignIn = await sessionCookie(page);
  expect(beforeSignIn).toBeTruthy();
  await page.locator('input[name="login"]').fill('admin@fabrikam.test');
  await page.locator('input[name="password"]').fill('x');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await expect(page.getByTestId('who')).toHaveText('Farah Admin');
  const afterSignIn = await sessionCookie(page);
  expect(afterSignIn).toBeTruthy();
  expect(afterSignIn).not.toEqual(beforeSignIn);
});

test('a callback with a forged state is refused and signs nobody in', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await expect(page.locator('input[name="login"]')).toBeVisible();
  const response = await page.goto('/auth/callback?code=stolen-code&state=forged-state');
  expect(response?.status()).toBe(400);
  await expect(page.getByRole('alert')).toContainText('state mismatch');
  await page.goto('/');
  await expect(page.getByTestId('who')).toHaveCount(0);
});
