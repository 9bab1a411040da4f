import AxeBuilder from '@axe-core/playwright';
import { expect, Page, test } from '@playwright/test';
import { hydrated, lastMonth, signIn } from './helpers';

// axe-core's WCAG 2.1 A and AA rules on the main pages, at a desktop and a phone width. Each page is also written as
// a screenshot, end2end/screenshots/<page>-<width>.png (not committed), for the people reviewing a change to look at.
const shot = (who: string, path: string, width: number) =>
  `screenshots/${who}-${path.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 60) || 'home'}-${width}.png`;

async function check(page: Page, who: string, paths: string[], width: number, found: string[]) {
  for (const path of paths) {
    await page.goto(path);
    const { violations } = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
    for (const v of violations) {
      found.push(`${path}: ${v.id} (${v.impact}) ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
    }
    await page.screenshot({ path: shot(who, path, width), fullPage: true });
  }
}

for (const width of [1366, 375]) {
  test(`the main pages have no accessibility violations at ${width} px`, async ({ page }) => {
    test.setTimeout(120_000);
    await page.setViewportSize({ width, height: 900 });
    await signIn(page, 'admin@contoso.test');
    const stack = await page.locator('table[aria-label="Stacks"] tbody a').first().getAttribute('href');
    await page.goto(`/bills?period=${lastMonth()}`);
    const bill = await page.locator('table[aria-label="Bills"] tbody a').first().getAttribute('href');
    const pages = ['/', stack!, '/customers', '/usage', '/dashboard', `/bills?period=${lastMonth()}`, bill!,
      `${bill}/invoice`, '/audit', '/reconciliation', '/settings/webhooks', '/settings/partner', '/no-such-page'];
    const found: string[] = [];
    await check(page, 'admin', pages, width, found);
    // The operator's own pages.
    await page.context().clearCookies();
    await signIn(page, 'operator@stackbill.test');
    await check(page, 'operator', ['/', '/operator', '/usage', '/dashboard'], width, found);
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
