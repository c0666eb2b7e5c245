// Drives the example notes page of a running app in headless Chromium, as a person would:
// register, see the username arrive through the socket's snapshot, add a note, then log out
// in a second tab and watch the first tab follow.
//
// Usage: BASE_URL=http://127.0.0.1:PORT node notes.mjs (CHROMIUM overrides the browser path).
// Exits non-zero with a message on the first failed step.

import { chromium } from "playwright-core";

const base = process.env.BASE_URL;
if (!base) {
  console.error("BASE_URL is not set");
  process.exit(2);
}

// No background networking: the browser talks only to the app on 127.0.0.1.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

try {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);

  // Register; the app signs the new user in and lands on the home page.
  await page.goto(`${base}/register?next=/notes`);
  await page.fill("#id_username", "browser_user");
  await page.fill("#id_email", "browser_user@example.com");
  await page.fill("#id_password1", "a sturdy passphrase 42");
  await page.fill("#id_password2", "a sturdy passphrase 42");
  await Promise.all([page.waitForURL(`${base}/notes`), page.click("button[type=submit]")]);

  // The live line is empty in the server's HTML: only the socket's `auth` snapshot fills it.
  const live = page.locator(".live-user strong");
  await live.waitFor({ state: "visible" });
  await page.waitForFunction(
    () => document.querySelector(".live-user strong")?.textContent === "browser_user",
  );

  // Adding a note goes over the socket; the list is rebuilt from the reply's delta.
  await page.fill("#id_title", "buy milk");
  await page.click(".note-form button[type=submit]");
  await page.locator("ul.notes li", { hasText: "buy milk" }).waitFor();
  if (page.url() !== `${base}/notes`) throw new Error(`adding a note navigated to ${page.url()}`);

  // A second tab of the same browser logs out; the first tab gets the push and leaves.
  const other = await context.newPage();
  await other.goto(`${base}/notes`);
  await Promise.all([other.waitForURL(`${base}/`), other.click("form[action='/logout'] button")]);
  await page.waitForURL(`${base}/`);
  await page.locator("header a[href='/login']").waitFor();

  console.log("browser flow passed: register, live username, add note, logout pushed");
} catch (error) {
  console.error(`browser flow failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
