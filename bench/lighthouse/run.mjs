// Lighthouse performance and accessibility of the gallery's views, phone and desktop.
//
//   make demo KEEP=1                      # terminal 1: the stack, the gallery, the demo media
//   cd bench/lighthouse && PUPPETEER_SKIP_DOWNLOAD=1 npm ci
//   CHROME_PATH=/usr/bin/chromium node run.mjs http://127.0.0.1:PORT / /media/med_... /s/TOKEN
//
// Signs in with the stack's dev login ("Sign in as the demo user") in one Chromium tab, then runs
// Lighthouse on each path in that tab with storage kept (the page's session is in localStorage),
// first with Lighthouse's phone settings (its default: a mid-range phone, 4x CPU slowdown, slow
// 4G, simulated), then its desktop settings. Prints one line per view and form factor: the two
// scores and the metrics, then the accessibility audits that fail and the performance audits
// under 0.9.
import lighthouse from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';
import puppeteer from 'puppeteer-core';

const [base, ...paths] = process.argv.slice(2);
if (!base || !paths.length) {
  console.error('usage: node run.mjs <gallery URL> <path> [<path> ...]');
  process.exit(2);
}
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu'],
});
const page = await browser.newPage();
await page.goto(`${base}/`);
await page.waitForSelector('button');
for (const button of await page.$$('button')) {
  if (/demo user/i.test(await button.evaluate((el) => el.textContent))) {
    await button.click();
    break;
  }
}
await page.waitForSelector('[aria-label="Media"]', { timeout: 30000 });

for (const formFactor of ['mobile', 'desktop']) {
  for (const path of paths) {
    const flags = {
      output: 'json',
      logLevel: 'error',
      onlyCategories: ['performance', 'accessibility'],
      disableStorageReset: true,
      formFactor,
    };
    const { lhr } = await lighthouse(
      base + path, flags, formFactor === 'desktop' ? desktopConfig : undefined, page,
    );
    const { performance, accessibility } = lhr.categories;
    const audit = (id) => lhr.audits[id].displayValue;
    console.log(
      formFactor.padEnd(8), path,
      `performance ${Math.round(performance.score * 100)}`,
      `accessibility ${Math.round(accessibility.score * 100)}`,
      `LCP ${audit('largest-contentful-paint')}`, `FCP ${audit('first-contentful-paint')}`,
      `TBT ${audit('total-blocking-time')}`, `CLS ${audit('cumulative-layout-shift')}`,
      `SI ${audit('speed-index')}`,
    );
    for (const ref of accessibility.auditRefs) {
      const found = lhr.audits[ref.id];
      if (ref.weight > 0 && found.score !== null && found.score < 1) {
        console.log('   accessibility:', ref.id, found.details?.items?.[0]?.node?.snippet ?? '');
      }
    }
    for (const ref of performance.auditRefs) {
      const found = lhr.audits[ref.id];
      if (ref.weight > 0 && found.score !== null && found.score < 0.9) {
        console.log('   performance:', ref.id, found.displayValue ?? '');
      }
    }
  }
}
await browser.close();
