// Drives Debian's chromium (headless, through playwright-core) against a
// running `relayprobe serve`: loads the page, runs a check, watches the
// live transcript, waits for the verdict, opens the permanent link, and
// saves screenshots (desktop and phone). Used by
// tests/integration/test_serve_browser.sh and test_serve_xss.sh.
//
//   node check_page.mjs BASE_URL TARGET WANT_VERDICT SCREENSHOT_PREFIX [--xss]
//
// Prints one JSON line with what it saw; exits non-zero on any failure.
import { chromium } from 'playwright-core';

const [base, target, want, shot, ...rest] = process.argv.slice(2);
const xss = rest.includes('--xss');
const exe = process.env.CHROMIUM || '/usr/bin/chromium';
const out = { ok: false, steps: [] };
const fail = (m) => { throw new Error(m); };

let browser;
try {
  browser = await chromium.launch({
    executablePath: exe,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  const dialogs = [], cspErrors = [], pageErrors = [];
  page.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  page.on('pageerror', (e) => pageErrors.push(String(e)));

  await page.goto(base + '/', { waitUntil: 'load' });
  out.steps.push('loaded');
  await page.fill('#target', target);
  // Count transcript lines that arrive while the result is still hidden:
  // that is the "live" part.
  await page.evaluate(() => {
    window.__live = 0;
    const t = document.getElementById('transcript');
    new MutationObserver(() => {
      if (document.getElementById('result').hidden) window.__live = t.querySelectorAll('.line.S').length;
    }).observe(t, { childList: true });
  });
  await page.click('#go');
  await page.waitForSelector('#transcript .line.S', { timeout: 60000 });
  out.steps.push('live transcript');
  await page.waitForSelector('#verdict[data-verdict]', { timeout: 120000 });
  await page.waitForSelector('#result:not([hidden])', { timeout: 5000 });
  out.verdict = await page.getAttribute('#verdict', 'data-verdict');
  out.verdict_text = await page.textContent('#verdict');
  out.live_lines = await page.evaluate(() => window.__live);
  out.transcript_lines = await page.locator('#transcript .line').count();
  out.url = page.url();
  out.banner_seen = (await page.textContent('#transcript')).includes('220 mx.');
  out.servers = await page.locator('#servers .card').count();
  out.findings = await page.locator('#servers ul.findings li').count();
  await page.waitForSelector('#history:not([hidden]) #history-table tbody tr', { timeout: 10000 });
  out.history_rows = await page.locator('#history-table tbody tr').count();
  await page.screenshot({ path: shot + '-desktop.png', fullPage: true });
  out.steps.push('verdict');

  if (!/\/r\/[0-9a-f]{32}$/.test(out.url)) fail('no permanent link in the URL: ' + out.url);
  if (out.verdict !== want) fail('verdict ' + out.verdict + ', want ' + want);
  if (out.live_lines < 1) fail('no transcript line arrived before the result');
  if (!out.banner_seen) fail('the banner is not in the live transcript');
  if (out.servers < 1) fail('no server card');

  // The permanent link, on a phone-sized screen: same verdict, no stream.
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const p2 = await phone.newPage();
  p2.on('dialog', async (d) => { dialogs.push(d.message()); await d.dismiss(); });
  p2.on('pageerror', (e) => pageErrors.push(String(e)));
  p2.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
  });
  await p2.goto(out.url, { waitUntil: 'load' });
  await p2.waitForSelector('#verdict[data-verdict]', { timeout: 20000 });
  out.permalink_verdict = await p2.getAttribute('#verdict', 'data-verdict');
  out.phone_overflow = await p2.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  await p2.screenshot({ path: shot + '-phone.png', fullPage: false });
  if (out.permalink_verdict !== want) fail('permalink shows ' + out.permalink_verdict);
  if (out.phone_overflow) fail('the page is wider than a phone screen');
  out.steps.push('permalink');

  if (xss) {
    // Open every <details> so the stored transcript is in the DOM view too.
    for (const pg of [page, p2]) {
      await pg.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
      const r = await pg.evaluate(() => ({
        xss: window.__xss === undefined ? null : window.__xss,
        scripts: Array.from(document.scripts).map((s) => s.getAttribute('src')),
        injected: document.querySelectorAll('main img, main iframe, main [onerror], main [onmouseover]').length,
        text: document.body.innerText.includes('<script>window.__xss=1</script>'),
      }));
      out.xss_check = r;
      if (r.xss !== null) fail('injected script ran: ' + r.xss);
      if (r.scripts.length !== 1 || r.scripts[0] !== '/app.js') fail('unexpected script elements: ' + r.scripts);
      if (r.injected) fail(r.injected + ' injected elements in the page');
      if (!r.text) fail('the payload is not shown as text');
    }
  }
  if (dialogs.length) fail('dialogs opened: ' + dialogs.join(' | '));
  if (cspErrors.length) fail('CSP violations: ' + cspErrors.join(' | '));
  if (pageErrors.length) fail('page errors: ' + pageErrors.join(' | '));
  out.ok = true;
} catch (e) {
  out.error = String(e && e.message ? e.message : e);
} finally {
  if (browser) await browser.close();
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);
