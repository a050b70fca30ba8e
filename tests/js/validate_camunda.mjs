// Validates Camunda 8 element templates, without network:
//   node validate_camunda.mjs TEMPLATES.json   (one template, or an array of them)
// 1. against Camunda's published JSON Schema (@camunda/zeebe-element-templates-json-schema,
//    installed), with ajv as the schema declares it (draft-07, $data for its relative
//    references), each error worded as Camunda's error-messages.json words it when it does;
// 2. as Camunda Modeler checks a templated task (bpmn-js-element-templates' validateProperty):
//    each default value and, for a property that may stay empty, the empty value must pass
//    its constraints, patterns compiled like the Modeler's (no flags); a condition must name
//    another property's id.
// Prints one line per error (`ID/path: message`), then a summary line of JSON
// ({"templates", "errors", "warnings"}); exits 1 when there is an error, 2 on bad usage.
// The schema's deprecation warnings are printed as `warning:` lines, one per warning and
// template with the paths it concerns, and do not fail.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import Ajv from "ajv";
import addFormats from "ajv-formats";

if (process.argv.length !== 3) {
  console.error("usage: node validate_camunda.mjs TEMPLATES.json");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const resources = "@camunda/zeebe-element-templates-json-schema/resources/";
const schema = require(`${resources}schema.json`);
const errorMessages = require(`${resources}error-messages.json`);

let warnings = [];
const ajv = new Ajv({ allErrors: true, strict: false, $data: true });
addFormats(ajv);
ajv.addKeyword({
  keyword: "deprecationWarning",
  schemaType: "string",
  validate(text, _data, _parent, context) {
    warnings.push({ path: context.instancePath, text });
    return true;
  },
});
const validate = ajv.compile(schema);

function segmentsOf(instancePath) {
  return instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function pointerValue(root, segments) {
  return segments.reduce((value, key) => (value == null ? undefined : value[key]), root);
}

// ajv-errors' ${N/pointer} and ${N#}: relative JSON pointers from the error's instance.
function interpolate(text, template, instancePath) {
  const segments = segmentsOf(instancePath);
  return text.replace(/\$\{(\d+)(#|(?:\/[^}]*)?)\}/g, (_, up, rest) => {
    const base = segments.slice(0, segments.length - Number(up));
    if (rest === "#") return base[base.length - 1] ?? "";
    const value = pointerValue(template, [...base, ...rest.split("/").slice(1)]);
    return typeof value === "string" ? value : JSON.stringify(value);
  });
}

// error-messages.json gives absolute schema paths; ajv gives paths relative to the $ref'd
// definition, which the instance path tells (a property, else the template).
function camundaMessage(error, template) {
  const definition = /^\/properties(\/|$)/.test(error.instancePath) ? "properties" : "template";
  let best;
  for (const { path, errorMessage } of errorMessages) {
    if (path[0] !== "definitions" || path[1] !== definition) continue;
    const prefix = `#/${path.slice(2).join("/")}`;
    let text;
    if (typeof errorMessage === "string") {
      if (error.schemaPath.startsWith(`${prefix}/`)) text = errorMessage;
    } else if (error.schemaPath === `${prefix}/${error.keyword}`) {
      text = errorMessage[error.keyword];
      if (text && typeof text === "object") text = text[error.params.missingProperty];
    }
    if (typeof text === "string" && (!best || prefix.length > best.prefix.length)) {
      best = { prefix, text };
    }
  }
  return best && interpolate(best.text, template, error.instancePath);
}

// Leaves out what only repeats another error: an `if` whose `then` failed, and the root
// oneOf (one template, or an array of them) once the template is known to be an object.
function reported(error, template) {
  if (error.keyword === "if") return false;
  const isObject = template !== null && typeof template === "object" && !Array.isArray(template);
  return !(isObject && (error.schemaPath === "#/oneOf" || error.schemaPath.startsWith("#/oneOf/1/")));
}

function isEmpty(value) {
  return typeof value === "string" ? !value.trim().length : value === undefined;
}

// What the Modeler reports for `value` of `property` (its validateProperty), or undefined.
function modelerError(value, property) {
  const { notEmpty, minLength, maxLength } = property.constraints ?? {};
  let { pattern } = property.constraints ?? {};
  if (notEmpty && isEmpty(value)) return "must not be empty";
  if (property.feel && typeof value === "string" && value.startsWith("=")) return undefined;
  if (maxLength && (value || "").length > maxLength) return `cannot exceed ${maxLength} characters`;
  if (minLength && (value || "").length < minLength) return `must be at least ${minLength} characters`;
  if (!pattern) return undefined;
  let message;
  if (typeof pattern !== "string") ({ message, value: pattern } = pattern);
  let regex;
  try {
    regex = new RegExp(pattern);
  } catch (error) {
    return `pattern does not compile as the Modeler compiles it: ${error.message}`;
  }
  return regex.test(value) ? undefined : message || `must match pattern ${pattern}`;
}

function modelerErrors(template) {
  const found = [];
  const properties = template.properties ?? [];
  const ids = new Set();
  properties.forEach((property, index) => {
    const where = `/properties/${index}`;
    if (property.id !== undefined) {
      if (ids.has(property.id)) found.push(`${where}: duplicate property id ${property.id}`);
      ids.add(property.id);
    }
  });
  properties.forEach((property, index) => {
    const where = `/properties/${index}`;
    const condition = property.condition ?? {};
    for (const simple of condition.allMatch ?? [condition]) {
      if (simple.property === undefined) continue;
      if (!ids.has(simple.property) || simple.property === property.id) {
        found.push(`${where}: condition on ${simple.property}, which is no other property's id`);
      }
    }
    if (property.type === "Dropdown" && property.value !== undefined) {
      const values = (property.choices ?? []).map((choice) => choice.value);
      if (!values.includes(property.value)) {
        found.push(`${where}: value ${JSON.stringify(property.value)} is not a choice`);
      }
    }
    if (!property.constraints || property.type === "Boolean" || property.type === "Hidden") return;
    const samples = [];
    if (property.value !== undefined && property.value !== "") {
      samples.push(["default value", property.value]);
    }
    if (!property.constraints.notEmpty) {
      samples.push(["empty value", ""]);
      if (property.type === "Number") samples.push(["empty value", undefined]);
    }
    for (const [what, sample] of samples) {
      if (what === "empty value" && property.type === "Dropdown" && property.value) continue;
      const error = modelerError(sample, property);
      if (error) found.push(`${where}: modeler refuses its ${what}: ${property.label ?? ""} ${error}`);
    }
  });
  return found;
}

const loaded = JSON.parse(readFileSync(process.argv[2], "utf8"));
const templates = Array.isArray(loaded) ? loaded : [loaded];
let errors = 0;
let warned = 0;
for (const template of templates) {
  warnings = [];
  const name = template.id ?? "(no id)";
  const lines = [];
  if (!validate(template)) {
    for (const error of validate.errors.filter((error) => reported(error, template))) {
      const message = camundaMessage(error, template) ?? error.message;
      lines.push(`${name}${error.instancePath}: ${message} ${JSON.stringify(error.params)}`);
    }
  }
  lines.push(...modelerErrors(template).map((line) => `${name}${line}`));
  errors += lines.length;
  lines.forEach((line) => console.log(line));
  const byText = new Map();
  for (const { path, text } of warnings) byText.set(text, [...(byText.get(text) ?? []), path]);
  for (const [text, paths] of byText) {
    warned += 1;
    const where = [...new Set(paths)];
    console.log(`warning: ${name}: ${text} (${where.length}: ${where.join(" ")})`);
  }
}
console.log(JSON.stringify({ templates: templates.length, errors, warnings: warned }));
process.exit(errors ? 1 : 0);
