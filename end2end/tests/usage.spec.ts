import { randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { addStack, agree, hydrated, signIn } from './helpers';

function usagePage(subscription: string): string {
  const record = (hour: number) => ({
    id: `/subscriptions/${subscription}/providers/Microsoft.Commerce.Admin/UsageAggregate/x`,
    name: 'x',
    type: 'Microsoft.Commerce.Admin/UsageAggregate',
    properties: {
      subscriptionId: subscription,
      usageStartTime: `2026-10-01T${String(hour).padStart(2, '0')}:00:00+00:00`,
      usageEndTime: `2026-10-01T${String(hour + 1).padStart(2, '0')}:00:00+00:00`,
      instanceData: JSON.stringify({ 'Microsoft.Resources': { resourceUri: `/subscriptions/${subscription}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1`, location: 'local' } }),
      quantity: 2.5,
      meterId: 'FAB6EB84500B4A09A8CA7358F8BBAEA5',
    },
  });
  // Quantities are JSON numbers in the usage API; written by hand so the text stays exact.
  return JSON.stringify({ value: [record(0), record(1)] });
}

for (const javaScriptEnabled of [true, false]) {
  test.describe(`usage in (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, () => {
    // Reading the clipboard back needs the permission a user would not be asked for when copying.
    test.use({ javaScriptEnabled, permissions: javaScriptEnabled ? ['clipboard-read', 'clipboard-write'] : [] });

    test('an admin creates a key that is shown once, uploads usage, and revokes the key', async ({ page }) => {
      page.on('dialog', (dialog) => dialog.accept());
      await signIn(page, 'admin@fabrikam.test');
      await addStack(page);

      const keys = page.getByRole('form', { name: 'Create an ingestion key' });
      await keys.getByLabel('Key name').fill('forwarder');
      await keys.getByRole('button', { name: 'Create key' }).click();
      // The key is shown once: a modal dialog with a Copy button with JavaScript, a box where the page opens without.
      const shown = page.getByRole('dialog', { name: 'Your new ingestion key' });
      await expect(shown).toContainText('sbk_');
      const key = (await shown.locator('code').textContent())!.trim();
      if (javaScriptEnabled) {
        await hydrated(page);
        await expect(shown.getByRole('button', { name: 'Copy' })).toBeFocused();
        await shown.getByRole('button', { name: 'Copy' }).click();
        await expect(shown.getByRole('button', { name: 'Copied' })).toBeVisible();
        expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(key);
      } else {
        await expect(shown.getByRole('button', { name: 'Copy' })).toBeHidden();
      }
      await shown.getByRole('button', { name: 'Close' }).click();
      await expect(shown).toBeHidden();
      const table = page.getByRole('table', { name: 'Ingestion keys' });
      await expect(table).toContainText('forwarder');
      await page.reload();
      await expect(page.getByTestId('new-key')).toHaveCount(0);

      await page.locator('input[name="files"]').setInputFiles({
        name: 'usage.json',
        mimeType: 'application/json',
        buffer: Buffer.from(usagePage(randomUUID())),
      });
      await page.getByRole('button', { name: 'Upload' }).click();
      await expect(page.getByRole('status')).toContainText('usage.json (usage API page, JSON): 2 records: 2 new, 0 changed, 0 unchanged');
      await expect(page.locator('#outcome'), 'the message is where the eye is').toBeFocused();
      await expect(page.getByTestId('usage-state')).toContainText('2026-10-01 01:00');

      if (javaScriptEnabled) await hydrated(page);
      await table.getByRole('button', { name: 'Revoke' }).click();
      await agree(page, javaScriptEnabled, /^Revoke the ingestion key forwarder of .+\?$/, 'Revoke');
      await expect(page.getByRole('status')).toContainText('Key revoked');
      await expect(table).toContainText('revoked');
      await expect(table.getByRole('button', { name: 'Revoke' })).toHaveCount(0);
    });
  });
}

test('a large upload shows how much has been sent, then its outcome (JavaScript on)', async ({ page }) => {
  await signIn(page, 'admin@fabrikam.test');
  await addStack(page);
  await hydrated(page);
  // A 4 MB CSV sent at 1 MB/s (Chromium's own throttling), so the upload lasts long enough to be seen.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 1_000_000 });
  const header = '"UsageStartTime","UsageEndTime","MeterName","Quantity","resourceType","location","resourceGroup","resourceName","subowner","tags","MeterId","additionalInfo","subscription","resourceUri"';
  const sub = randomUUID();
  const row = (i: number) => `"9/6/2017 12:00:00 AM","9/6/2017 1:00:00 AM","Base VM Size Hours","1","virtualMachines","local","rg1","vm${i}","a@b.test","","FAB6EB84-500B-4A09-A8CA-7358F8BBAEA5","","${sub}","/subscriptions/${sub}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm${i}"`;
  const rows = Array.from({ length: 12_000 }, (_, i) => row(i));
  await page.locator('input[name="files"]').setInputFiles({
    name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from([header, ...rows].join('\r\n')),
  });

  await page.getByRole('button', { name: 'Upload' }).click();

  const progress = page.getByTestId('upload-progress');
  await expect(progress).toContainText(/Sent \d+\.\d of 4\.\d MB/);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await expect(page.getByRole('status').filter({ hasText: 'big.csv' })).toContainText('big.csv (Usagesummary CSV): 12,000 records: 12,000 new');
  await expect(page.locator('#outcome')).toBeFocused();
});
