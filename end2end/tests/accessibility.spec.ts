import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { hydrated, lastMonth, signIn } from './helpers';

// axe-core's WCAG 2.1 A and AA rules on the main pages, at a desktop and a phone width.
for (const width of [1366, 375]) {
  test(`the main pages have no accessibility violations at ${width} px`, async ({ page }) => {
    test.setTimeout(90_000);
    await page.setViewportSize({ width, height: 900 });
    await signIn(page, 'admin@contoso.test');
    const stack = await page.locator('table[aria-label="Stacks"] a').first().getAttribute('href');
    await page.goto(`/bills?period=${lastMonth()}`);
    const bill = await page.locator('table[aria-label="Bills"] tbody a').first().getAttribute('href');
    const pages = ['/', stack!, '/customers', '/usage', '/dashboard', `/bills?period=${lastMonth()}`, bill!,
      `${bill}/invoice`, '/audit', '/reconciliation', '/settings/webhooks', '/settings/partner', '/no-such-page'];
    const found: string[] = [];
    for (const path of pages) {
      await page.goto(path);
      const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
      for (const v of violations) {
        found.push(`${path}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
      }
    }
    expect(found, found.join('\n')).toEqual([]);
  });
}

test('the first Tab reaches a skip link that moves past the navigation, once the page is hydrated', async ({ page }) => {
  await signIn(page, 'admin@contoso.test');
  await hydrated(page);
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to the content' });
  await expect(skip).toBeFocused();
  await skip.press('Enter');
  await expect(page.locator('main#main')).toBeFocused();
});
