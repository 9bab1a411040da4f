import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

for (const javaScriptEnabled of [true, false]) {
  test.describe(`webhooks (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, () => {
    test.use({ javaScriptEnabled });

    test('a partner adds an endpoint, sees its secret once, and a private address is refused', async ({ page }, testInfo) => {
      await signIn(page, 'admin@contoso.test');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Webhooks' }).click();
      await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();

      // A private address: refused beside the field, nothing added.
      const form = page.getByRole('form', { name: 'Add an endpoint' });
      await form.getByLabel('Address (https)').fill('https://10.0.0.5/hooks');
      await form.getByRole('button', { name: 'Add endpoint' }).click();
      await expect(page.getByRole('alert').first()).toContainText('10.0.0.5 is a private address');

      const url = `https://hooks.example.com/${javaScriptEnabled ? 'js' : 'nojs'}-${Date.now()}`;
      await form.getByLabel('Address (https)').fill(url);
      await form.getByLabel(/A customer's charges this month pass the threshold/).uncheck();
      await form.getByRole('button', { name: 'Add endpoint' }).click();
      await expect(page.getByRole('status')).toContainText(`Endpoint ${url} added`);
      await expect(page.getByTestId('new-secret')).toContainText(/whsec_[0-9a-f]{64}/);
      const row = page.getByRole('table', { name: 'Webhook endpoints' }).getByRole('row').filter({ hasText: url });
      await expect(row).toContainText('bill.finalised');
      await expect(row).not.toContainText('customer.threshold');

      await page.setViewportSize({ width: 375, height: 800 });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      await page.screenshot({ path: testInfo.outputPath('webhooks-375.png'), fullPage: true });
      await page.setViewportSize({ width: 1366, height: 900 });
      await page.screenshot({ path: testInfo.outputPath('webhooks-1366.png'), fullPage: true });

      // Shown once: gone on the next view.
      await page.reload();
      await expect(page.getByTestId('new-secret')).toHaveCount(0);
    });
  });
}
