// Validates settings as a react-jsonschema-form does, with @rjsf/validator-ajv8 on draft
// 2020-12 schemas: node form_agreement.mjs CASES.json prints one verdict per case as JSON.
// CASES.json: {"schemas": {ID: schema}, "cases": [[ID, settings], ...]}.
import { readFileSync } from "node:fs";
import { customizeValidator } from "@rjsf/validator-ajv8";
import Ajv2020 from "ajv/dist/2020.js";

const { schemas, cases } = JSON.parse(readFileSync(process.argv[2], "utf8"));
const validator = customizeValidator({ AjvClass: Ajv2020 });
const verdicts = cases.map(([id, settings]) => {
  const { errors } = validator.validateFormData(settings, schemas[id]);
  return {
    valid: errors.length === 0,
    errors: errors.map((error) => `${error.property || "."}: ${error.message}`),
  };
});
process.stdout.write(JSON.stringify(verdicts));
