// Validates Camunda 8 element templates against Camunda's published schema
// (@camunda/zeebe-element-templates-json-schema, installed; no network):
// node validate_camunda.mjs TEMPLATES.json, a file holding one template or an array of them.
// Prints one line per error and exits 1 when there is any.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv from "ajv";
import addFormats from "ajv-formats";

const require = createRequire(import.meta.url);
const schema = require("@camunda/zeebe-element-templates-json-schema/resources/schema.json");
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(schema);
const loaded = JSON.parse(readFileSync(process.argv[2], "utf8"));
const templates = Array.isArray(loaded) ? loaded : [loaded];
let errors = 0;
for (const template of templates) {
  if (!validate(template)) {
    for (const error of validate.errors) {
      errors += 1;
      console.log(`${template.id}${error.instancePath}: ${error.message} ${JSON.stringify(error.params)}`);
    }
  }
}
console.log(JSON.stringify({ templates: templates.length, errors }));
process.exit(errors ? 1 : 0);
