"""Camunda 8 element templates from the descriptors: one template per activity, the
connection's fields merged in, for Camunda Modeler and Web Modeler.

Each setting is a `zeebe:input` property. Its binding name is `connection.FIELD` or
`settings.FIELD`, so a job worker receives two objects, `connection` and `settings`, that are
what `s3c run -c CONN --config SETTINGS` takes. A secret's value is a secret reference
(`{{secrets.S3_SECRET_ACCESS_KEY}}`), and its pattern refuses anything else. Conditions
become Camunda's (`equals`, `oneOf`, `isEmpty`, `allMatch`); a field required when a simple
condition holds becomes one property per case (ids `connection.FIELD.required` and
`.optional`, one binding), with `notEmpty` where it is required.
Lengths, patterns and integer ranges are kept as constraints (a range as a pattern of the
integers it allows), each pattern with the connector's message.

What Camunda's grammar cannot say is said in the property's description instead: a required
condition joined with `anyMatch` (the connection's keys: required with access_keys, or when
the other key is given), the bounds of decimal numbers (timeouts), and the rules between
fields (`rules`, e.g. an AWS region unless endpoint_url is set).
"""

from __future__ import annotations

from typing import Any

SCHEMA = "https://unpkg.com/@camunda/zeebe-element-templates-json-schema/resources/schema.json"
TEMPLATE_PREFIX = "io.s3connector"
TASK_TYPE_PREFIX = "io.s3connector"
SECRET_PATTERN = r"^\{\{secrets\.[A-Za-z0-9_]+\}\}$"


def element_templates(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """One element template per activity of `bundle` (see `sdk.bundle`)."""
    connection = bundle["connection"]
    return [element_template(activity, connection) for activity in bundle["activities"]]


def element_template(activity: dict[str, Any], connection: dict[str, Any]) -> dict[str, Any]:
    groups = [
        {"id": f"connection.{group['id']}", "label": f"Connection: {group['label']}"}
        for group in connection["groups"]
    ]
    groups += [
        {"id": f"settings.{group['id']}", "label": group["label"]} for group in activity["groups"]
    ]
    properties = [
        {
            "type": "Hidden",
            "value": f"{TASK_TYPE_PREFIX}:{activity['id']}:{activity['version']}",
            "binding": {"type": "zeebe:taskDefinition", "property": "type"},
        }
    ]
    for field in connection["fields"]:
        properties += template_properties(field, "connection", connection)
    for field in activity["fields"]:
        properties += template_properties(field, "settings", activity)
    template: dict[str, Any] = {
        "$schema": SCHEMA,
        "name": f"Amazon S3: {activity['name']}",
        "id": f"{TEMPLATE_PREFIX}.{activity['id']}",
        "description": activity["description"],
        "version": activity["version"],
        "category": {"id": "connectors", "name": "Connectors"},
        "appliesTo": ["bpmn:Task"],
        "elementType": {"value": "bpmn:ServiceTask"},
        "icon": {"contents": activity["icon"]},
        "groups": groups,
        "properties": properties,
    }
    if activity["documentation_url"].startswith("https://"):
        template["documentationRef"] = activity["documentation_url"]
    if activity.get("deprecated"):
        template["deprecated"] = {"message": f"{activity['name']} is deprecated."}
    return template


def template_properties(
    field: dict[str, Any], scope: str, descriptor: dict[str, Any]
) -> list[dict[str, Any]]:
    """The template properties of one descriptor field: one, or one per case of a simple
    `required_when`."""
    ident = f"{scope}.{field['name']}"
    base: dict[str, Any] = {
        "id": ident,
        "label": field["label"],
        "description": _description(field, descriptor),
        "group": f"{scope}.{field['group']}",
        "binding": {"type": "zeebe:input", "name": ident},
    }
    base.update(_control(field))
    constraints = _constraints(field)
    condition = _condition(field.get("condition"), scope)
    if field.get("required_when") is None:
        return [_finish(base, constraints, condition, field["required"])]
    cases = _required_cases(field, scope)
    if cases is None:
        return [_finish(base, constraints, condition, False)]
    return [
        _finish(
            {**base, "id": f"{ident}.{'required' if required else 'optional'}"},
            dict(constraints),
            case_condition,
            required,
        )
        for case_condition, required in cases
    ]


def _finish(
    prop: dict[str, Any],
    constraints: dict[str, Any],
    condition: dict[str, Any] | None,
    required: bool,
) -> dict[str, Any]:
    reference = f"{{{{secrets.S3_{prop['binding']['name'].split('.')[-1].upper()}}}}}"
    if "feel" in prop and prop["type"] == "String" and "placeholder" not in prop:
        prop["value" if required else "placeholder"] = reference
    if required:
        constraints["notEmpty"] = True
    elif prop["type"] not in ("Boolean", "Dropdown") and "value" not in prop:
        prop["optional"] = True
        if constraints:
            constraints["notEmpty"] = False
    if constraints:
        prop["constraints"] = constraints
    if condition is not None:
        prop["condition"] = condition
    return prop


def _control(field: dict[str, Any]) -> dict[str, Any]:
    """The property's control type and default value."""
    default = field.get("default")
    if "enum" in field:
        labels = field.get("enum_labels", {})
        choices = [
            {"name": labels.get(str(value), str(value)), "value": str(value)}
            for value in field["enum"]
        ]
        if default is None:
            choices.insert(0, {"name": "(not set)", "value": ""})
        return {"type": "Dropdown", "choices": choices, "value": str(default or "")}
    if field["type"] == "boolean":
        return {"type": "Boolean", "value": bool(default)}
    if field["secret"]:
        return {"type": "String", "feel": "optional"}
    if field["type"] == "number":
        control = {"type": "Number"}
    elif field["type"] in ("object", "json"):
        control = {"type": "Text", "feel": "required"}
    else:
        control = {"type": "String"}
    if default is not None and default != "":
        control["value"] = default if field["type"] == "number" else str(default)
    if "placeholder" in field and control["type"] in ("String", "Text"):
        control["placeholder"] = field["placeholder"]
    return control


def _constraints(field: dict[str, Any]) -> dict[str, Any]:
    limits, messages = field.get("constraints", {}), field.get("messages", {})
    if field["secret"]:
        return {"pattern": {"value": SECRET_PATTERN, "message": "must be {{secrets.NAME}}"}}
    found: dict[str, Any] = {}
    if field["type"] == "string" and "enum" not in field:
        for key in ("minLength", "maxLength"):
            if key in limits:
                found[key] = limits[key]
        if "pattern" in limits:
            found["pattern"] = {"value": limits["pattern"], "message": messages["pattern"]}
    if field["type"] == "integer" and "minimum" in limits and "maximum" in limits:
        found["pattern"] = {
            "value": integer_range_pattern(limits["minimum"], limits["maximum"]),
            "message": messages.get("minimum", "out of range"),
        }
    return found


def _description(field: dict[str, Any], descriptor: dict[str, Any]) -> str:
    parts = [field["description"]]
    if field["secret"]:
        parts.append("A secret: give a reference such as {{secrets.NAME}}, never the value.")
    if field.get("dynamic"):
        parts.append(f"A job variable `{field['name']}` may supply it instead.")
    if field.get("required_when") and (
        "anyMatch" in field["required_when"] or _required_cases(field, "") is None
    ):
        parts.append(f"Required when {_words(field['required_when'])}.")
    limits = field.get("constraints", {})
    if field["type"] == "number" and ("minimum" in limits or "maximum" in limits):
        parts.append(field["messages"].get("minimum") or field["messages"]["maximum"])
    parts += [
        rule["message"] for rule in descriptor.get("rules", []) if rule["field"] == field["name"]
    ]
    parts += field.get("runtime_rules", [])
    return " ".join(part if part.endswith(".") else f"{part}." for part in parts)


def _condition(condition: dict[str, Any] | None, scope: str) -> dict[str, Any] | None:
    """Camunda's condition for a descriptor condition; None when it has none (or when it
    needs `anyMatch`, which Camunda lacks: the property is then always shown)."""
    if condition is None:
        return None
    if "anyMatch" in condition:
        return None
    if "allMatch" in condition:
        parts = [_condition(part, scope) for part in condition["allMatch"]]
        if any(part is None or "allMatch" in part for part in parts):
            return None
        return {"allMatch": parts}
    simple: dict[str, Any] = {"type": "simple", "property": f"{scope}.{condition['field']}"}
    if "equals" in condition:
        simple["equals"] = condition["equals"]
    elif "oneOf" in condition:
        simple["oneOf"] = condition["oneOf"]
    else:
        simple["isEmpty"] = not condition["isSet"]
    return simple


def _required_cases(
    field: dict[str, Any], scope: str
) -> list[tuple[dict[str, Any] | None, bool]] | None:
    """(condition, required) per case when `required_when` and `condition` are simple
    conditions on one field: the values where it is required, and the others."""
    required, shown = field["required_when"], field.get("condition")
    if "anyMatch" in required and shown is not None and "field" in shown:
        on_shown = [part for part in required["anyMatch"] if part.get("field") == shown["field"]]
        if len(on_shown) == 1 and "isSet" not in on_shown[0]:
            required = on_shown[0]
    if "field" not in required or "isSet" in required:
        return None
    values = [required["equals"]] if "equals" in required else required["oneOf"]
    if shown is None:
        return [(_condition(required, scope), True)]
    if shown.get("field") != required["field"] or "isSet" in shown:
        return None
    allowed = [shown["equals"]] if "equals" in shown else shown["oneOf"]
    cases = [([value for value in allowed if value in values], True)]
    cases.append(([value for value in allowed if value not in values], False))
    ident = f"{scope}.{required['field']}"
    return [
        ({"type": "simple", "property": ident, "oneOf": group}, needed)
        for group, needed in cases
        if group
    ]


def _words(condition: dict[str, Any]) -> str:
    if "anyMatch" in condition or "allMatch" in condition:
        joiner = " or " if "anyMatch" in condition else " and "
        return joiner.join(
            _words(part) for part in condition.get("anyMatch") or condition["allMatch"]
        )
    if "isSet" in condition:
        return f"{condition['field']} is {'set' if condition['isSet'] else 'not set'}"
    values = [condition["equals"]] if "equals" in condition else condition["oneOf"]
    return f"{condition['field']} is {' or '.join(map(str, values))}"


def integer_range_pattern(low: int, high: int) -> str:
    """A pattern of the decimal integers from `low` to `high` (both at least 0), without
    leading zeros."""
    if low < 0 or high < low:
        raise ValueError(f"no pattern for the range {low} to {high}")
    parts, start = [], low
    for stop in _range_stops(low, high):
        parts.append(_digits_between(start, stop))
        start = stop + 1
    return "^(?:" + "|".join(parts) + ")$"


def _range_stops(low: int, high: int) -> list[int]:
    stops, nines = {high}, 1
    stop = int(str(low)[:-nines] + "9" * nines)
    while low <= stop < high:
        stops.add(stop)
        nines += 1
        stop = int(str(low)[:-nines] + "9" * nines)
    zeros = 1
    stop = (high + 1) - (high + 1) % 10**zeros - 1
    while low < stop <= high:
        stops.add(stop)
        zeros += 1
        stop = (high + 1) - (high + 1) % 10**zeros - 1
    return sorted(stops)


def _digits_between(start: int, stop: int) -> str:
    pattern, free = "", 0
    for first, last in zip(str(start), str(stop), strict=True):
        if first == last:
            pattern += first
        elif first != "0" or last != "9":
            pattern += f"[{first}-{last}]"
        else:
            free += 1
    if free:
        pattern += "[0-9]" + (f"{{{free}}}" if free > 1 else "")
    return pattern
