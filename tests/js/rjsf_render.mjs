// Renders every JSON Schema of a bundle (s3c descriptors export -o BUNDLE.json) with
// react-jsonschema-form, as a designer's React app would: node rjsf_render.mjs BUNDLE.json.
// Prints {"checks": {name: {ok, detail}}}; exits 1 when one fails.
import { readFileSync } from "node:fs";
import React from "react";
import { renderToString } from "react-dom/server";
import Form from "@rjsf/core";
import { customizeValidator } from "@rjsf/validator-ajv8";
import Ajv2020 from "ajv/dist/2020.js";

const bundle = JSON.parse(readFileSync(process.argv[2], "utf8"));
const validator = customizeValidator({ AjvClass: Ajv2020 });
const checks = {};
const check = (name, ok, detail) => (checks[name] = { ok: Boolean(ok), detail });
const warnings = [];
const warn = console.warn;
console.warn = console.error = (...args) => warnings.push(args.join(" "));

const missing = {};
for (const [id, schema] of Object.entries(bundle.json_schemas)) {
  const html = renderToString(React.createElement(Form, { schema, validator }));
  const absent = Object.keys(schema.properties).filter(
    (name) => !html.includes(`id="root_${name}"`) && !html.includes(`id="root_${name}__anyof_select"`),
  );
  if (absent.length) missing[id] = absent;
}
check("every_schema_renders_every_field", Object.keys(bundle.json_schemas).length === 16 && !Object.keys(missing).length, missing);

const connection = bundle.json_schemas.connection;
const refused = validator.validateFormData({ auth: "access_keys" }, connection).errors;
const lacks = (name) => refused.some((e) => e.name === "required" && e.params.missingProperty === name);
check(
  "access_keys_without_keys_refused",
  lacks("access_key_id") && lacks("secret_access_key"),
  refused.map((e) => `${e.property}: ${e.message}`),
);
const complete = { auth: "access_keys", access_key_id: "AKIAEXAMPLE", secret_access_key: "secret" };
const accepted = validator.validateFormData(complete, connection).errors;
check("complete_connection_accepted", accepted.length === 0, accepted.map((e) => e.message));
const html = renderToString(React.createElement(Form, { schema: connection, validator }));
check("labels_and_password_inputs", html.includes("Default credential chain") && html.includes('type="password"'), null);
check("renders_without_warnings", warnings.length === 0, warnings.slice(0, 5));
console.warn = warn;
console.log(JSON.stringify({ checks }));
process.exit(Object.values(checks).every((c) => c.ok) ? 0 : 1);
