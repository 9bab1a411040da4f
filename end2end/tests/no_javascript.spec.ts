import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test.use({ javaScriptEnabled: false });

test('with JavaScript disabled, signing in, the home page and signing out all work', async ({ page }) => {
  await signIn(page, 'reader@contoso.test');
  await expect(page.getByTestId('role')).toHaveText('Partner reader');
  await expect(page.getByRole('table', { name: 'Stacks' })).toContainText('contoso-ams-01');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in' }).first()).toBeVisible();
});
