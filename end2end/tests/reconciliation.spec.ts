import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { lastMonth, signIn } from './helpers';

/** Contoso's demo tenant: Partner Center's `PartnerId` in its reconciliation files. */
const CONTOSO_TENANT = 'c0de0001-aaaa-4bbb-8ccc-000000000001';

for (const javaScriptEnabled of [true, false]) {
  test.describe(`reconciliation (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, () => {
    test.use({ javaScriptEnabled });

    test("a partner checks Microsoft's bill against Stackbill's and imports a file", async ({ page }, testInfo) => {
      await signIn(page, 'admin@contoso.test');
      const period = lastMonth();
      await page.goto(`/bills?period=${period}`);
      await page.getByRole('link', { name: /Check Microsoft's bill/ }).click();

      await expect(page.getByRole('heading', { name: "Reconciliation with Microsoft's bill" })).toBeVisible();
      await expect(page.getByTestId('recon-imported')).toContainText(`DailyRatedUsage_${period.replace('-', '')}_demo.csv`);
      const differences = page.getByRole('table', { name: 'Differences' });
      // The demo's three differences: a day not reported, an outdated price, a tenant mapped only in Stackbill.
      await expect(differences).toContainText('Microsoft billed more');
      await expect(differences).toContainText('another unit price');
      await expect(differences).toContainText('charged by Stackbill only');
      await expect(page.getByRole('table', { name: 'Per customer' })).toContainText('Northwind Traders');
      await page.setViewportSize({ width: 375, height: 800 });
      // The page does not scroll sideways on a phone: wide tables scroll inside their own box.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      await page.screenshot({ path: testInfo.outputPath('reconciliation-375.png'), fullPage: true });
      await page.setViewportSize({ width: 1366, height: 900 });
      await page.screenshot({ path: testInfo.outputPath('reconciliation-1366.png'), fullPage: true });

      // Microsoft's sample file, as Contoso's: October 2026, Northwind's and Adatum's Azure Stack Hub lines.
      const sample = await readFile('../server/data/recon-sample.csv', 'utf8');
      await page.locator('input[name="file"]').setInputFiles({
        name: 'DailyRatedUsage_202610.csv',
        mimeType: 'text/csv',
        buffer: Buffer.from(sample.replaceAll('3e1f2b5c-0000-4000-8000-00000000a001', CONTOSO_TENANT)),
      });
      await page.getByRole('button', { name: 'Import' }).click();
      await expect(page.getByRole('status')).toContainText('Imported the reconciliation of 2026-10: 10 lines of Azure Stack Hub, 1 line set aside');
      await expect(page.getByTestId('recon-imported')).toContainText('DailyRatedUsage_202610.csv');
      // Stackbill bills none of the sample's subscriptions: every line is Microsoft's only.
      await expect(page.getByRole('table', { name: 'Differences' })).toContainText('no stack bills this subscription');
    });
  });
}
