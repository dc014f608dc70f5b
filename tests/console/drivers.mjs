// The browsers console_e2e.mjs drives, behind one small interface so the
// scenario is written once: Debian's Chromium through playwright-core
// (CDP), Debian's Firefox ESR through puppeteer-core (WebDriver BiDi;
// playwright-core drives only its own patched Firefox).  Neither package
// downloads a browser here.  Elements are found by CSS selectors (the
// console's ids, labels' for=, ARIA names in attributes), which both
// libraries read the same way.
//
//   const d = await launch("chromium" | "firefox");
//   d.goto(url) d.fill(sel, text) d.press(sel, key) d.click(sel)
//   d.waitFor(sel, {text, pattern, timeout}) d.text(sel) d.evaluate(fn)
//   d.screenshot(path) d.close()
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

// The browser side of waitFor: an element matching sel whose text holds
// text (a string) or matches pattern (a RegExp's source).
function present({ sel, text, pattern }) {
  for (const e of document.querySelectorAll(sel)) {
    const t = e.textContent ?? "";
    if (text !== undefined && !t.includes(text)) continue;
    if (pattern !== undefined && !new RegExp(pattern).test(t)) continue;
    return true;
  }
  return false;
}

export const BROWSERS = {
  chromium: "/usr/bin/chromium",
  firefox: "/usr/bin/firefox-esr",
};

export async function launch(name, { step = 20_000 } = {}) {
  if (name === "chromium") {
    const { chromium } = require("playwright-core");
    const browser = await chromium.launch({
      executablePath: BROWSERS.chromium,
      headless: true,
      args: ["--no-sandbox"],
      timeout: 30_000,
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(step);
    page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
    return {
      version: browser.version(),
      goto: (url) => page.goto(url),
      fill: (sel, text) => page.fill(sel, text),
      press: (sel, key) => page.press(sel, key),
      click: (sel) => page.click(sel),
      waitFor: (sel, o = {}) =>
        page.waitForFunction(present, { sel, text: o.text, pattern: o.pattern?.source }, { timeout: o.timeout ?? step }),
      text: (sel) => page.textContent(sel),
      evaluate: (fn) => page.evaluate(fn),
      screenshot: (path) => page.screenshot({ path, fullPage: true }),
      close: () => browser.close(),
    };
  }
  if (name === "firefox") {
    process.env.PUPPETEER_SKIP_DOWNLOAD = "1";
    const puppeteer = require("puppeteer-core");
    const browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: BROWSERS.firefox,
      headless: true,
      protocolTimeout: 60_000,
      timeout: 60_000,
    });
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.setDefaultTimeout(step);
    page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
    return {
      version: await browser.version(),
      goto: (url) => page.goto(url),
      fill: (sel, text) => page.locator(sel).fill(text),
      press: async (sel, key) => {
        await page.focus(sel);
        await page.keyboard.press(key);
      },
      click: (sel) => page.locator(sel).click(),
      waitFor: (sel, o = {}) =>
        page.waitForFunction(present, { timeout: o.timeout ?? step, polling: 100 }, {
          sel,
          text: o.text,
          pattern: o.pattern?.source,
        }),
      text: (sel) => page.$eval(sel, (e) => e.textContent),
      evaluate: (fn) => page.evaluate(fn),
      screenshot: (path) => page.screenshot({ path, fullPage: true }),
      close: () => browser.close(),
    };
  }
  throw new Error(`unknown browser "${name}" (chromium or firefox)`);
}
