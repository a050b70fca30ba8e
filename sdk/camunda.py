"""Camunda 8 element templates from the descriptors: one template per activity, the
connection's fields merged in (its groups first), for Camunda Modeler and Web Modeler.

Bindings: each setting is a `zeebe:input` named `connection.FIELD` or `settings.FIELD`, so a
job carries two objects, `connection` and `settings` (what `s3c run ID -c CONN --config
SETTINGS` takes) and a connection field never collides with an activity field. The job type
(a Hidden `zeebe:taskDefinition`) is `io.s3connector:ID:VERSION`.

Controls: an enum is a Dropdown named by `enum_labels`; a boolean a Boolean, or a Dropdown with
"(not set)" when it has no default (unset must stay unset); an integer a String whose pattern
allows exactly the integers within its bounds (the schema gives Number no bounds, and the
Modeler's problems panel tests a Number's pattern against its `=N` expression); a decimal
number a Number; an object, array or JSON value a Text holding a FEEL expression. A secret is
a String whose value (its placeholder when optional) is `{{secrets.S3_FIELD}}` and whose
pattern accepts nothing but a reference.

Constraints: `notEmpty` on required fields (never on dynamic ones: a document may supply
them), `minLength`, `maxLength`, `pattern` with the field's message. The Modeler checks an
empty optional input against `minLength` and the pattern too, so an optional field's pattern
also accepts the empty string and takes its `minLength` in. Every input that may stay empty
is `optional` (no input at all: the connector refuses the `null` of Camunda 8.8's empty inputs,
though schema 0.46.0 calls `optional` on inputs deprecated).

Conditions: `equals`/`oneOf`/`isSet` become `equals`/`oneOf`/`isEmpty`, `allMatch` stays.
Camunda has no `anyMatch` and no conditional `notEmpty`: a field whose condition needs
`anyMatch`, or that has a `required_when`, becomes several properties with one binding and
disjoint conditions (ids `FIELD.required`, `FIELD.optional`, numbered when there are more),
each required or not. That needs the negation of each part: a value set of a field with known
values (enum, boolean) or `isSet`.

Lost, and said in the description instead (the connector still refuses at run time): a
condition on a field of free text, or on a field that has a `required_when` or an `anyMatch`
condition (it may be split that way, and a condition names one property id: the access keys
are also required together); bounds of decimal numbers and of negative integers; the
readable messages of lengths and of `notEmpty` (the Modeler words them); what a secret's value
must look like; the rules between fields (`rules`), `runtime_rules`, and `choices_from`.
"""

from __future__ import annotations

import json
from itertools import product
from typing import Any

from s3_connector.connector.conditions import describe_condition

SCHEMA = "https://unpkg.com/@camunda/zeebe-element-templates-json-schema/resources/schema.json"
TEMPLATE_PREFIX = "io.s3connector"
TASK_TYPE_PREFIX = "io.s3connector"
SECRET_PATTERN = r"^\{\{secrets\.[A-Za-z0-9_]+\}\}$"
NOT_SET = {"name": "(not set)", "value": ""}

Atom = tuple[str, str, Any, Any]
"""(property id, "in" or "empty", values or isEmpty, the property's possible values or None)"""
Conj = list[Atom]


def element_templates(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """One element template per activity of `bundle` (see `sdk.bundle`)."""
    connection = bundle["connection"]
    return [element_template(activity, connection) for activity in bundle["activities"]]


def element_template(activity: dict[str, Any], connection: dict[str, Any]) -> dict[str, Any]:
    properties: list[dict[str, Any]] = [
        {
            "type": "Hidden",
            "value": f"{TASK_TYPE_PREFIX}:{activity['id']}:{activity.get('version') or 1}",
            "binding": {"type": "zeebe:taskDefinition", "property": "type"},
        }
    ]
    groups = []
    for scope, descriptor in (("connection", connection), ("settings", activity)):
        prefix = "Connection: " if scope == "connection" else ""
        groups += [
            {"id": f"{scope}.{group['id']}", "label": prefix + group["label"]}
            for group in descriptor.get("groups", [])
        ]
        form = _Form(scope, descriptor)
        for field in descriptor["fields"]:
            properties += form.properties(field)
    template: dict[str, Any] = {
        "$schema": SCHEMA,
        "name": f"Amazon S3: {activity['name']}",
        "id": f"{TEMPLATE_PREFIX}.{activity['id']}",
        "description": activity.get("description", ""),
        "version": activity.get("version") or 1,
        "category": {"id": "connectors", "name": "Connectors"},
        "appliesTo": ["bpmn:Task"],
        "elementType": {"value": "bpmn:ServiceTask"},
        "groups": groups,
        "properties": properties,
    }
    icon = activity.get("icon") or ""
    if icon.startswith(("data:", "https://")):
        template["icon"] = {"contents": icon}
    documentation = activity.get("documentation_url") or ""
    if documentation.startswith("https://"):
        template["documentationRef"] = documentation
    if activity.get("deprecated"):
        template["deprecated"] = {"message": f"{activity['name']} is deprecated."}
    return template


class _Form:
    """The properties of one descriptor's fields, under `scope`."""

    def __init__(self, scope: str, descriptor: dict[str, Any]) -> None:
        self.scope = scope
        self.descriptor = descriptor
        self.fields = {field["name"]: field for field in descriptor["fields"]}
        self.split = {
            field["name"]
            for field in descriptor["fields"]
            if field.get("required_when") or _has_any_match(field.get("condition"))
        }

    def properties(self, field: dict[str, Any]) -> list[dict[str, Any]]:
        ident = f"{self.scope}.{field['name']}"
        notes: list[str] = []
        shown = self._shown(field.get("condition"), notes)
        needed = self._needed(field, notes)
        cases = []
        for visible, (when, required) in product(shown, needed):
            conj = _merge(visible + when)
            if conj is not None:
                cases.append((conj, required))
        names = ["required" if required else "optional" for _, required in cases]
        props = []
        for index, (conj, required) in enumerate(cases):
            name = names[index]
            if len(cases) == 1:
                prop_id = ident
            elif names.count(name) == 1:
                prop_id = f"{ident}.{name}"
            else:
                prop_id = f"{ident}.{name}{names[: index + 1].count(name)}"
            props.append(self._property(field, prop_id, conj, required, notes))
        return props

    def _property(
        self, field: dict[str, Any], prop_id: str, conj: Conj, required: bool, notes: list[str]
    ) -> dict[str, Any]:
        ident = f"{self.scope}.{field['name']}"
        prop: dict[str, Any] = {"id": prop_id, "label": field["label"]}
        prop["description"] = self._description(field, notes)
        if field.get("group"):
            prop["group"] = f"{self.scope}.{field['group']}"
        prop["binding"] = {"type": "zeebe:input", "name": ident}
        prop.update(_control(field, required))
        constraints = _constraints(field, required)
        if required:
            constraints["notEmpty"] = True
        elif _may_be_empty(prop):
            prop["optional"] = True
            if constraints:
                constraints["notEmpty"] = False
        if constraints:
            prop["constraints"] = constraints
        condition = _camunda_condition(conj)
        if condition is not None:
            prop["condition"] = condition
        return prop

    def _shown(self, condition: dict[str, Any] | None, notes: list[str]) -> list[Conj]:
        """Disjoint cases in which the field is shown; all of them when some part cannot be
        said (then the description says it)."""
        if condition is None:
            return [[]]
        true, _ = self._cases(condition)
        if true is not None:
            return true
        notes.append(f"Only when {describe_condition(condition)}.")
        if "allMatch" in condition:
            kept = [self._cases(part)[0] for part in condition["allMatch"]]
            return _product([cases for cases in kept if cases is not None])
        return [[]]

    def _needed(self, field: dict[str, Any], notes: list[str]) -> list[tuple[Conj, bool]]:
        """Disjoint cases, each with whether the field is required in it."""
        when = field.get("required_when")
        if when is not None and field.get("dynamic"):
            notes.append(
                f"Required when {describe_condition(when)}, unless a document supplies it."
            )
        if field.get("dynamic") or when is None or field.get("required"):
            return [([], bool(field.get("required")) and not field.get("dynamic"))]
        true, false = self._cases(when)
        if true is None or false is None:
            notes.append(f"Required when {describe_condition(when)}.")
            parts = [part for part in when.get("anyMatch", []) if None not in self._cases(part)]
            if not parts:
                return [([], False)]
            true, false = self._cases({"anyMatch": parts})
            assert true is not None and false is not None
        return [(conj, True) for conj in true] + [(conj, False) for conj in false]

    def _cases(self, condition: dict[str, Any]) -> tuple[list[Conj] | None, list[Conj] | None]:
        """Disjoint conjunctions in which `condition` holds, and in which it does not; None
        for a side that cannot be said."""
        if "allMatch" in condition or "anyMatch" in condition:
            every = "allMatch" in condition
            parts = [self._cases(part) for part in condition["allMatch" if every else "anyMatch"]]
            kept = [part[0] if every else part[1] for part in parts]
            flipped = [part[1] if every else part[0] for part in parts]
            whole = _known_product(kept)
            first: list[Conj] | None = []
            for index, cases in enumerate(flipped):
                step = _known_product([*kept[:index], cases])
                first = None if first is None or step is None else first + step
            return (whole, first) if every else (first, whole)
        field = self.fields.get(condition["field"])
        if field is None or field["name"] in self.split:
            return None, None
        prop = f"{self.scope}.{field['name']}"
        if "isSet" in condition:
            return [[(prop, "empty", not condition["isSet"], None)]], [
                [(prop, "empty", bool(condition["isSet"]), None)]
            ]
        domain = _domain(field)
        wanted = [condition["equals"]] if "equals" in condition else condition["oneOf"]
        values = [_stored(field, value) for value in wanted]
        true = _simplify([[(prop, "in", values, domain)]])
        if domain is None:
            return true, None
        rest = [value for value in domain if value not in values]
        return true, _simplify([[(prop, "in", rest, domain)]])

    def _description(self, field: dict[str, Any], notes: list[str]) -> str:
        parts = [field.get("description", "")]
        if field.get("deprecated"):
            parts.insert(0, "Deprecated: kept for old configurations.")
        name = field["name"]
        if field.get("secret"):
            parts.append(
                f"A secret: give a Camunda secret reference such as {_reference(field)}, never "
                "the value itself."
            )
        if field.get("dynamic"):
            if field.get("required_unless_document"):
                parts.append(
                    f"Needed, but not required here: a document's `{name}` property (a process "
                    "variable) may supply it."
                )
            else:
                parts.append(f"A document's `{name}` property (a process variable) may supply it.")
        parts += notes
        said = _lost_bounds(field) + field.get("runtime_rules", [])
        for rule in self.descriptor.get("rules", []):
            if rule.get("field") == name and rule.get("message"):
                when = rule.get("when")
                said.append(
                    f"When {describe_condition(when)}: {rule['message']}"
                    if when
                    else rule["message"]
                )
        parts += [part[:1].upper() + part[1:] for part in said]
        return " ".join(part if part.endswith(".") else f"{part}." for part in parts if part)


def _may_be_empty(prop: dict[str, Any]) -> bool:
    """Whether an input may be left empty: a Boolean and a Dropdown with a default never are."""
    if prop["type"] == "Dropdown":
        return prop["value"] == ""
    return prop["type"] != "Boolean"


def _has_any_match(condition: dict[str, Any] | None) -> bool:
    if not condition:
        return False
    if "anyMatch" in condition:
        return True
    return any(_has_any_match(part) for part in condition.get("allMatch", []))


def _domain(field: dict[str, Any]) -> list[Any] | None:
    """The values the field's property can hold, when they are known."""
    if "enum" in field:
        control = _control(field, bool(field.get("required")))
        return [choice["value"] for choice in control["choices"]]
    if field["type"] == "boolean":
        return [True, False] if "default" in field else ["", "true", "false"]
    return None


def _stored(field: dict[str, Any], value: Any) -> Any:
    """A descriptor value as the field's property holds it."""
    if field["type"] == "boolean" and "default" in field and "enum" not in field:
        return bool(value)
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _product(alternatives: list[list[Conj]]) -> list[Conj]:
    return _simplify(
        [[atom for conj in combo for atom in conj] for combo in product(*alternatives)]
    )


def _known_product(alternatives: list[list[Conj] | None]) -> list[Conj] | None:
    """The conjunctions of one case of each alternative; None when one is unknown."""
    known = [cases for cases in alternatives if cases is not None]
    return _product(known) if len(known) == len(alternatives) else None


def _simplify(cases: list[Conj]) -> list[Conj]:
    return [conj for conj in (_merge(case) for case in cases) if conj is not None]


def _merge(conj: Conj) -> Conj | None:
    """`conj` with the value sets of one property intersected and what always holds dropped;
    None when it never holds."""
    merged: dict[tuple[str, str], Atom] = {}
    for atom in conj:
        prop, kind, value, domain = atom
        key = (prop, kind)
        if key in merged:
            if kind == "empty" and merged[key][2] != value:
                return None
            if kind == "in":
                value = [item for item in merged[key][2] if item in value]
        merged[key] = (prop, kind, value, domain)
    result = []
    for prop, kind, value, domain in merged.values():
        if kind == "in" and not value:
            return None
        if kind == "in" and domain is not None and all(item in value for item in domain):
            continue
        result.append((prop, kind, value, domain))
    return result


def _camunda_condition(conj: Conj) -> dict[str, Any] | None:
    simple = []
    for prop, kind, value, _ in conj:
        condition: dict[str, Any] = {"type": "simple", "property": prop}
        if kind == "empty":
            condition["isEmpty"] = value
        elif len(value) == 1:
            condition["equals"] = value[0]
        else:
            condition["oneOf"] = value
        simple.append(condition)
    if not simple:
        return None
    return simple[0] if len(simple) == 1 else {"allMatch": simple}


def _reference(field: dict[str, Any]) -> str:
    return "{{secrets.S3_" + field["name"].upper() + "}}"


def _control(field: dict[str, Any], required: bool) -> dict[str, Any]:
    """The property's control type, default value and placeholder."""
    default = field.get("default")
    if "enum" in field or (field["type"] == "boolean" and default is None):
        labels = field.get("enum_labels", {})
        values = field.get("enum", [True, False])
        choices = [{"name": labels.get(_text(v), _text(v)), "value": _text(v)} for v in values]
        if default is None:
            choices.insert(0, {"name": "(choose one)", "value": ""} if required else NOT_SET)
        return {
            "type": "Dropdown",
            "choices": choices,
            "value": _text("" if default is None else default),
        }
    if field["type"] == "boolean":
        return {"type": "Boolean", "value": bool(default)}
    if field.get("secret"):
        return {
            "type": "String",
            "feel": "optional",
            "value" if required else "placeholder": _reference(field),
        }
    control: dict[str, Any]
    if field["type"] == "number":
        control = {"type": "Number"}
        if default is not None:
            control["value"] = default
        return control
    if field["type"] in ("object", "array", "json"):
        control = {"type": "Text", "feel": "required"}
        if default is not None:
            control["value"] = "=" + json.dumps(default, ensure_ascii=False)
    else:
        control = {"type": "String"}
        if default is not None and default != "":
            control["value"] = _text(default)
    placeholder = field.get("placeholder")
    examples = [example for example in field.get("examples", []) if isinstance(example, str)]
    if placeholder is None and examples and control["type"] == "String":
        placeholder = f"e.g. {examples[0]}"
    if placeholder:
        control["placeholder"] = placeholder
    return control


def _constraints(field: dict[str, Any], required: bool) -> dict[str, Any]:
    """Length and pattern constraints; an optional field's pattern also accepts ''."""
    limits, messages = field.get("constraints", {}), field.get("messages", {})
    if field.get("secret"):
        message = f"must be a secret reference such as {_reference(field)}"
        return {"pattern": _pattern(SECRET_PATTERN, message, required)}
    found: dict[str, Any] = {}
    if field["type"] == "integer" and "enum" not in field:
        low, high = limits.get("minimum"), limits.get("maximum")
        message = messages.get("minimum") or messages.get("maximum") or _bounds_words(low, high)
        found["pattern"] = _pattern(integer_pattern(low, high), message, required)
        return found
    if field["type"] != "string" or "enum" in field:
        return found
    shortest, pattern = limits.get("minLength"), limits.get("pattern")
    if "maxLength" in limits:
        found["maxLength"] = limits["maxLength"]
    if required and shortest:
        found["minLength"] = shortest
    if not required and shortest and shortest > 1:
        length = f"(?=[\\s\\S]{{{shortest}}})"
        words = [messages.get("minLength") or f"must be at least {shortest} characters"]
        if pattern:
            words.append(messages.get("pattern") or f"must match {pattern}")
        found["pattern"] = _pattern(
            f"^{length}" + (f"(?=[\\s\\S]*?(?:{pattern}))" if pattern else ""),
            " and ".join(dict.fromkeys(words)),
            False,
        )
    elif pattern:
        found["pattern"] = _pattern(pattern, messages.get("pattern"), required)
    return found


def _pattern(value: str, message: str | None, required: bool) -> dict[str, str]:
    pattern = {"value": value if required else f"^$|(?:{value})"}
    if message:
        pattern["message"] = message
    return pattern


def _bounds_words(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"must be an integer from {low} to {high}"
    if low is not None:
        return f"must be an integer of at least {low}"
    if high is not None:
        return f"must be an integer of at most {high}"
    return "must be an integer"


def _lost_bounds(field: dict[str, Any]) -> list[str]:
    """The bounds no pattern keeps, in words."""
    limits, messages = field.get("constraints", {}), field.get("messages", {})
    low, high = limits.get("minimum"), limits.get("maximum")
    if low is None and high is None:
        return []
    if field["type"] == "integer" and low is not None and low >= 0:
        return []
    if field["type"] not in ("integer", "number"):
        return []
    words = messages.get("minimum") or messages.get("maximum")
    return [words or _bounds_words(low, high).replace("an integer", "a number")]


def integer_pattern(low: int | None, high: int | None) -> str:
    """A pattern of the decimal integers from `low` to `high` (None: unbounded), without
    leading zeros; any integer when `low` is None or negative."""
    if low is None or low < 0:
        return r"^-?(?:0|[1-9][0-9]*)$"
    if high is not None:
        return integer_range_pattern(low, high)
    digits = len(str(low))
    longer = f"[1-9][0-9]{{{digits},}}"
    return "^(?:" + integer_range_pattern(low, 10**digits - 1)[4:-2] + f"|{longer})$"


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
