// Drives the designer preview (s3c descriptors preview) in headless Chromium as a user would:
// node preview_check.mjs INDEX.html SCREENSHOT.png; prints {"checks": {name: {ok, detail}}}.
import { chromium } from "playwright-core";

const [index, screenshot] = process.argv.slice(2);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
const problems = [];
page.on("pageerror", (error) => problems.push(error.message));
page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
const checks = {};
const check = (name, ok, detail) => (checks[name] = { ok: Boolean(ok), detail });

const visibleErrors = (form) =>
  page.$$eval(`#${form}-form *`, (elements) =>
    elements
      .filter((e) => e.children.length === 0 && e.offsetParent !== null)
      .map((e) => e.textContent.trim())
      .filter((text) => /required property|must|does not match|less than|greater than/i.test(text)),
  );
const field = (form, name) =>
  page
    .locator(`#${form}-form div[data-schemapath="root.${name}"]:not(.je-child-editor-holder):visible`)
    .first();
const optIn = (form, name) => field(form, name).locator('input[type="checkbox"]').first().check();

await page.goto(`file://${index}`);
await page.waitForFunction(() => window.forms?.connection?.ready && window.forms?.activity?.ready);
check("loads_without_errors", problems.length === 0, problems.slice(0, 5));

await optIn("connection", "auth");
await field("connection", "auth").locator("select").first().selectOption({ label: "Access keys" });
await page.waitForTimeout(300);
let errors = await visibleErrors("connection");
check(
  "access_keys_without_keys_refused",
  errors.some((e) => e.includes("access_key_id")) && errors.some((e) => e.includes("secret_access_key")),
  errors,
);
await page.screenshot({ path: screenshot });

await optIn("connection", "access_key_id");
await field("connection", "access_key_id").locator("input:not([type=checkbox])").first().fill("AKIAEXAMPLE");
await optIn("connection", "secret_access_key");
await field("connection", "secret_access_key").locator("input[type=password]").first().fill("secret");
await page.keyboard.press("Tab");
await page.waitForTimeout(300);
errors = await visibleErrors("connection");
const value = JSON.parse(await page.textContent("#connection-value"));
check("complete_keys_accepted", errors.length === 0 && value.access_key_id === "AKIAEXAMPLE", { errors, value });

await optIn("connection", "region");
await field("connection", "region").locator("input:not([type=checkbox])").first().fill("Not A Region");
await page.keyboard.press("Tab");
await page.waitForTimeout(300);
errors = await visibleErrors("connection");
check("bad_region_refused", errors.length > 0, errors);
check(
  "messages_are_the_connectors_not_regexes",
  errors.some((e) => e.includes("must be an AWS region name")) && !errors.some((e) => e.includes("pattern ^")),
  errors,
);

const activities = await page.$$eval("#activity option", (options) => options.map((o) => o.value));
const missing = {};
for (const id of activities) {
  await page.selectOption("#activity", id);
  await page.waitForFunction(() => window.forms.activity.ready);
  const properties = await page.evaluate(
    (name) => Object.keys(JSON.parse(document.getElementById("schemas").textContent)[name].properties),
    id,
  );
  const shown = await page.$$eval("#activity-form [data-schemapath]", (els) =>
    els.map((e) => e.getAttribute("data-schemapath")),
  );
  const absent = properties.filter((name) => !shown.includes(`root.${name}`));
  if (absent.length) missing[id] = absent;
}
check("every_activity_form_renders_every_field", activities.length === 15 && !Object.keys(missing).length, {
  activities: activities.length,
  missing,
});
check("no_errors_while_using_it", problems.length === 0, problems.slice(0, 5));
await browser.close();
console.log(JSON.stringify({ checks }));
process.exit(Object.values(checks).every((c) => c.ok) ? 0 : 1);
