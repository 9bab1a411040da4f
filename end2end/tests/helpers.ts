import { randomUUID } from 'node:crypto';
import { expect, type Page } from '@playwright/test';

/** Adds a stack with a new name (returned) through the home page's form and waits for its page. */
export async function addStack(page: Page, fields: { cloudId?: string; region?: string } = {}): Promise<string> {
  const name = `e2e-${randomUUID().slice(0, 8)}`;
  const add = page.getByRole('form', { name: 'Add a stack' });
  await add.getByLabel('Name').fill(name);
  await add.getByLabel('Cloud ID').fill(fields.cloudId ?? randomUUID());
  if (fields.region) await add.getByLabel('Region label').fill(fields.region);
  await add.getByRole('button', { name: 'Add stack' }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  return name;
}

/** Signs in through the real identity provider's login page, starting from the portal's sign-in link. */
export async function signIn(page: Page, login: string) {
  await page.goto('/');
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await expect(page.getByTestId('who')).toBeVisible();
}

/** The value of the portal's session cookie, if any. */
export async function sessionCookie(page: Page): Promise<string | undefined> {
  const cookies = await page.context().cookies();
  return cookies.find((c) => c.name === 'stackbill_session')?.value;
}

/**
 * The portal's "now": the instant `STACKBILL_CLOCK` pins (the date sweep runs the suite on chosen days), else the
 * wall clock. Tests that need "this month" or "last month" read it here, never from `new Date()` directly.
 */
export function portalNow(): Date {
  const set = process.env.STACKBILL_CLOCK;
  if (!set) return new Date();
  const since = Number(process.env.STACKBILL_CLOCK_SINCE || Date.now() / 1000);
  return new Date(new Date(set).getTime() + (Date.now() - since * 1000));
}

/** Last month (UTC) by the portal's clock, `YYYY-MM`. */
export function lastMonth(): string {
  const now = portalNow();
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** Waits until the page's WebAssembly has hydrated it (its scripts run): the app marks `<html data-hydrated>`. */
export async function hydrated(page: Page) {
  await page.locator('html[data-hydrated]').waitFor();
}

/**
 * Answers the question asked before an irreversible post: with JavaScript a dialog (accepted by the test's dialog
 * handler), without it a page naming what will happen, whose button is pressed here.
 */
export async function agree(page: Page, javaScriptEnabled: boolean, question: RegExp, button: string) {
  if (javaScriptEnabled) return;
  await expect(page.getByRole('heading', { name: question })).toBeVisible();
  await page.getByRole('button', { name: button }).click();
}
