import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { agree, hydrated, lastMonth, signIn } from './helpers';

const HEADER =
  'PartnerId,CustomerName,CustomerTenantId,SubscriptionId,StackCloudId,CommerceMeterId,MeterName,Region,Unit,Quantity,UnitPrice,PreciseAmount,Amount,CustomerPrice,Margin,Currency,ChargeStartDate,ChargeEndDate,LineType';

for (const javaScriptEnabled of [true, false]) {
  test.describe(`bills (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, () => {
    test.use({ javaScriptEnabled, acceptDownloads: true });

    test('a partner opens a bill, checks its total, downloads its CSV and finalises it', async ({ page }) => {
      const asked: string[] = [];
      page.on('dialog', (dialog) => { asked.push(dialog.message()); dialog.accept(); });
      await signIn(page, 'admin@fabrikam.test');
      const period = lastMonth();
      await page.goto(`/bills?period=${period}`);
      const bills = page.getByRole('table', { name: 'Bills' });
      // Each run finalises one of the demo's open bills; take the first still open.
      const row = bills.locator('tbody tr').filter({ hasText: 'open' }).first();
      const listed = (await row.locator('td').nth(4).textContent())!.trim();
      await row.getByRole('link').click();

      await expect(page.getByRole('heading', { name: new RegExp(`^Bill ${period}`) })).toBeVisible();
      await expect(page.getByTestId('bill-total')).toHaveText(listed);
      await expect(page.getByRole('table', { name: 'Bill lines' })).toContainText('USD');

      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download CSV' }).click()]);
      const csv = await readFile((await download.path())!, 'utf8');
      const lines = csv.trim().split('\r\n');
      expect(lines[0]).toBe(HEADER);
      expect(lines.length).toBeGreaterThan(1);
      const amounts = lines.slice(1).map((l) => Number(l.split(',')[12]));
      expect(amounts.reduce((a, b) => a + b, 0).toFixed(2)).toBe(listed.replace(' USD', '').replace(/,/g, ''));

      if (javaScriptEnabled) await hydrated(page);
      await page.getByRole('button', { name: 'Finalise' }).click();
      await agree(page, javaScriptEnabled, /^Finalise the bill of .+\?$/, 'Finalise');
      await expect(page.getByRole('status')).toContainText('The bill is final');
      await expect(page.getByTestId('bill-status')).toContainText('final');
      await expect(page.getByTestId('bill-total')).toHaveText(listed);
      await expect(page.getByRole('button', { name: 'Finalise' })).toHaveCount(0);
      // Finalising (irreversible) asks first: a dialog with JavaScript, a page without (see agree()).
      expect(asked.filter((q) => q.startsWith('Finalise this bill?')).length).toBe(javaScriptEnabled ? 1 : 0);
    });
  });
}

test('the dashboard and the usage explorer draw their charts without JavaScript', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, 'admin@contoso.test');
  await page.goto('/dashboard');
  await expect(page.getByTestId('cost-so-far')).toContainText('USD');
  await expect(page.getByRole('img', { name: /Cost per day/ })).toBeVisible();
  await page.goto('/usage?group=meter');
  await expect(page.getByRole('img', { name: /Cost by meter/ })).toBeVisible();
  await expect(page.getByRole('table', { name: 'Usage' })).toContainText('Base VM');
  await context.close();
});
