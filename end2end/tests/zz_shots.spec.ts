import { test } from '@playwright/test';
import { signIn, lastMonth } from './helpers';

for (const width of [1366, 375]) {
  test(`screens at ${width}`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    await signIn(page, 'admin@contoso.test');
    await page.goto(`/bills?period=${lastMonth()}`);
    const bill = page.locator('table[aria-label="Bills"] a').first();
    await bill.click();
    await page.getByRole('link', { name: 'Customer invoice' }).click();
    await page.screenshot({ path: `/tmp/shots/invoice-${width}.png`, fullPage: true });
    await page.goto('/audit?stack=contoso-ams-01');
    await page.screenshot({ path: `/tmp/shots/audit-${width}.png`, fullPage: false });
    await page.goto('/settings/partner');
    await page.screenshot({ path: `/tmp/shots/settings-${width}.png`, fullPage: true });
    await page.goto('/');
    await page.locator('table[aria-label="Stacks"] a').first().click();
    await page.locator('input[name="subscription_id"]').fill('5b5c0000-0000-4000-8000-00000000beef');
    await page.getByRole('button', { name: 'Save tenant subscription' }).click();
    await page.getByRole('alert').first().waitFor();
    await page.screenshot({ path: `/tmp/shots/refused-${width}.png`, fullPage: false });
  });
}
