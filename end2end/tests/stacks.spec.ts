import { randomUUID } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { addStack, agree, hydrated, signIn } from './helpers';

// Demo data: Northwind's CSP subscription belongs to Contoso, not Fabrikam.
const CONTOSO_NORTHWIND_SUB = '5b5c0000-0000-4000-8000-000000000001';

async function pick(page: Page, select: string, text: string) {
  const value = await page.locator(`select[name="${select}"] option`, { hasText: text }).first().getAttribute('value');
  await page.locator(`select[name="${select}"]`).selectOption(value!);
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(`stack registration (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, () => {
    test.use({ javaScriptEnabled });

    test('an admin registers a stack, maps a tenant, is refused what breaks the rules, and removes the mapping', async ({ page }) => {
      page.on('dialog', (dialog) => dialog.accept());
      await signIn(page, 'admin@fabrikam.test');

      const name = await addStack(page, { cloudId: randomUUID().toUpperCase(), region: 'Test lab' });
      await expect(page.getByRole('status')).toContainText('Stack added');

      await pick(page, 'default_subscription', 'Fabrikam Hosting (APSS)');
      await page.getByRole('button', { name: 'Save registration' }).click();
      await expect(page.getByRole('status')).toContainText('Registration saved');
      await expect(page.getByTestId('registration')).toContainText('PayAsYouUse');

      // Relecloud has two CSP subscriptions: map one, then replace it with the other.
      const relecloud = page.locator('select[name="subscription"] option', { hasText: 'Relecloud' });
      const [first, second] = [await relecloud.nth(0).getAttribute('value'), await relecloud.nth(1).getAttribute('value')];
      await page.locator('select[name="subscription"]').selectOption(first!);
      await page.getByRole('button', { name: 'Save tenant subscription' }).click();
      await expect(page.getByRole('status')).toContainText('Tenant subscription saved');
      await expect(page.getByRole('table', { name: 'Tenant subscriptions' })).toContainText(first!);
      await page.locator('select[name="subscription"]').selectOption(second!);
      await page.getByRole('button', { name: 'Save tenant subscription' }).click();
      await expect(page.getByRole('status')).toContainText('Tenant subscription saved');
      await expect(page.getByRole('table', { name: 'Tenant subscriptions' })).toContainText(second!);
      await expect(page.getByRole('table', { name: 'Tenant subscriptions' })).not.toContainText(first!);

      // Another partner's customer subscription: R5, named on the page, nothing changed.
      await page.locator('input[name="subscription_id"]').fill(CONTOSO_NORTHWIND_SUB);
      await page.getByRole('button', { name: 'Save tenant subscription' }).click();
      await expect(page.getByRole('alert')).toContainText('R5');
      await expect(page.getByRole('alert')).toContainText(CONTOSO_NORTHWIND_SUB);
      await expect(page.getByRole('alert'), 'the refusal is where the eye is').toBeFocused();
      await expect(page.locator('input[name="subscription_id"]'), 'what was typed is kept').toHaveValue(CONTOSO_NORTHWIND_SUB);
      await expect(page.locator('label', { has: page.locator('input[name="subscription_id"]') }).getByRole('alert'),
        'beside the input that was filled').toHaveCount(1);
      await expect(page.getByRole('table', { name: 'Tenant subscriptions' })).not.toContainText('Northwind');

      // An EA default is not offered while a tenant has its own subscription (R3; the server refuses it too).
      await expect(page.locator('select[name="default_subscription"] option', { hasText: 'Fabrikam Hosting (EA)' })).toHaveCount(0);
      await expect(page.locator('select[name="default_subscription"] option', { hasText: 'Fabrikam Hosting (APSS)' })).toHaveCount(1);

      if (javaScriptEnabled) await hydrated(page);
      await page.getByRole('button', { name: 'Remove' }).click();
      await agree(page, javaScriptEnabled, /^Remove the subscription of .+\?$/, 'Remove');
      await expect(page.getByRole('status')).toContainText('removed');
      await expect(page.getByRole('table', { name: 'Tenant subscriptions' })).toHaveCount(0);
      await page.getByRole('link', { name: 'Show history' }).click();
      await expect(page.getByRole('table', { name: 'Tenant subscriptions' })).toContainText(first!);
      await expect(page.getByRole('table', { name: 'Tenant subscriptions' })).toContainText(second!);
    });
  });
}

test('a reader sees the stack but no forms', async ({ page }) => {
  await signIn(page, 'reader@contoso.test');
  await page.getByRole('link', { name: 'contoso-ams-01' }).click();
  await expect(page.getByRole('heading', { name: 'contoso-ams-01' })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Tenant subscriptions' })).toContainText('Northwind');
  await expect(page.getByRole('button', { name: 'Save registration' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Remove' })).toHaveCount(0);
});
