import { expect, test, type Page } from '@playwright/test';
import { lastMonth, portalNow, signIn } from './helpers';

/** A day (UTC) by the portal's clock, `YYYY-MM-DD`, `back` days before today. */
function day(back: number): string {
  const now = portalNow();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - back)).toISOString().slice(0, 10);
}

/** The texts of one column of a table's body rows. */
async function column(page: Page, table: string, index: number): Promise<string[]> {
  return (await page.getByRole('table', { name: table }).locator('tbody tr').locator(`td:nth-child(${index})`).allInnerTexts())
    .map((t) => t.trim());
}

/** "1,107.26 USD" as a number. */
const amount = (text: string) => Number(text.replace(/[^0-9.-]/g, ''));

// Issue 10, items 3, 4, 5 and 8, with and without JavaScript: what a partner sees first, how lists sort, how numbers
// read, and navigation that fits the role.
for (const javaScriptEnabled of [true, false]) {
  test.describe(`working with the portal (JavaScript ${javaScriptEnabled ? 'on' : 'off'})`, () => {
    test.use({ javaScriptEnabled });

    test('the dashboard opens on this month beside last month, the explorer on the last 30 days', async ({ page }) => {
      await signIn(page, 'admin@contoso.test');
      await page.goto('/dashboard');
      await expect(page.getByLabel('Month', { exact: true })).toHaveValue(day(0).slice(0, 7));
      await expect(page.getByTestId('last-month')).toContainText(`Last month (${lastMonth()})`);
      await page.getByTestId('last-month').getByRole('link').click();
      await expect(page.getByLabel('Month', { exact: true })).toHaveValue(lastMonth());

      await page.goto('/usage');
      await expect(page.getByLabel('From (UTC)')).toHaveValue(day(29));
      await expect(page.getByLabel('To (UTC)')).toHaveValue(day(0));
    });

    test('lists sort by the column heading clicked, and amounts read with separators and currency', async ({ page }) => {
      await signIn(page, 'admin@contoso.test');
      await page.goto(`/bills?period=${lastMonth()}`);
      const cost = page.getByRole('table', { name: 'Bills' }).getByRole('columnheader', { name: /^Cost/ });
      await cost.getByRole('link').click();
      await expect(cost).toHaveAttribute('aria-sort', 'ascending');
      await cost.getByRole('link').click();
      await expect(cost).toHaveAttribute('aria-sort', 'descending');
      const costs = await column(page, 'Bills', 5);
      expect(costs.length).toBeGreaterThan(1);
      for (const c of costs) expect(c).toMatch(/^-?\d{1,3}(,\d{3})*\.\d{2} USD$/);
      const values = costs.map(amount);
      expect(values).toEqual([...values].sort((a, b) => b - a));

      await page.goto('/customers');
      const byName = page.getByRole('columnheader', { name: /^Customer/ });
      await byName.getByRole('link').click();
      await expect(byName).toHaveAttribute('aria-sort', 'ascending');
      await byName.getByRole('link').click();
      await expect(byName).toHaveAttribute('aria-sort', 'descending');
      await expect(page).toHaveURL(/sort=customer&desc=1/);
      const names = (await column(page, 'Customers', 1)).map((cell) => cell.split('\n')[0]);
      expect(names).toEqual([...names].sort((a, b) => b.localeCompare(a)));

      // The explorer's quantities grouped in thousands, each with its unit, and its total in the currency.
      await page.goto('/usage?group=meter');
      const quantities = await column(page, 'Usage', 3);
      expect(quantities.some((q) => /^\d{1,3}(,\d{3})+(\.\d+)?$/.test(q)), quantities.join(' | ')).toBe(true);
      for (const q of quantities) expect(q).toMatch(/^\d{1,3}(,\d{3})*(\.\d+)?$/);
      for (const unit of await column(page, 'Usage', 4)) expect(unit).not.toBe('');
      await expect(page.getByTestId('usage-total')).toHaveText(/^\d{1,3}(,\d{3})*\.\d{2} USD$/);
    });

    test('navigation fits the role: no Operator link or page for a partner, the operator picks the partner', async ({ page }) => {
      await signIn(page, 'admin@contoso.test');
      await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operator' })).toHaveCount(0);
      expect((await page.goto('/operator'))!.status()).toBe(403);
      const missing = await page.goto('/no-such-page');
      expect(missing!.status()).toBe(404);
      await expect(page.getByTestId('who')).toHaveText('Adele Admin');
      await page.goto('/customers');
      const first = page.getByRole('table', { name: 'Customers' }).locator('tbody tr').first();
      await expect(first.getByRole('link', { name: 'Usage' })).toHaveAttribute('href', /^\/usage\?customer=/);
      await expect(first.getByRole('link', { name: /^Bill / }).first()).toHaveAttribute('href', /^\/bills\//);

      await page.context().clearCookies();
      await signIn(page, 'operator@stackbill.test');
      await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Operator' })).toBeVisible();
      await page.goto('/usage');
      const filters = page.getByRole('form', { name: 'Filter usage' });
      await filters.locator('select[name="partner"]').selectOption({ label: 'Fabrikam Hosting' });
      await filters.getByRole('button', { name: 'Show' }).click();
      await expect(page).toHaveURL(/partner=/);
      await expect(filters.locator('select[name="partner"] option:checked')).toHaveText('Fabrikam Hosting');
      // The other filters now offer Fabrikam's stacks, not Contoso's.
      await expect(filters.locator('select[name="stack"]')).toContainText('fabrikam-sea-01');
      await expect(filters.locator('select[name="stack"]')).not.toContainText('contoso-ams-01');
    });
  });
}
