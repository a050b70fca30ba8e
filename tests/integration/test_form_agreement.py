"""A form refuses exactly what the connector refuses: hypothesis generates settings for the
connection and every activity, the connector loads them (as the harness does before anything
runs) and react-jsonschema-form's validator (ajv, in Node) checks them against the exported
JSON Schema. They must agree, except where the connector refuses by a rule that the schema
declares as only the connector's (`x-runtimeRules`: bytes of UTF-8, a file's content...)."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from support import run_node_on_json

from s3_connector.connector import settings as settings_loader
from s3_connector.connector.connection import Connection, ConnectionSchema
from s3_connector.connector.errors import InvalidInput
from s3_connector.connector.fields import STRICT_INPUT_RULES, InputRules
from s3_connector.connector.harness import Harness
from s3_connector.connector.registry import Registry
from s3_connector.sdk.bundle import json_schemas

JS = Path(__file__).parents[1] / "js"
CASES_PER_SCHEMA = 500
REGISTRY = Registry.shipped()
IDS = ["connection", *REGISTRY.ids]
CUSTOM_ENDPOINT = {"endpoint_url": "http://127.0.0.1:9", "allow_control_characters": True}

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (JS / "node_modules" / "@rjsf").is_dir(),
    reason="needs node and tests/js/node_modules (make test installs them)",
)

TEXT = st.characters(exclude_categories=("Cs",))
"""What a form's text input produces: any character but a lone surrogate."""


def _sized(schema: dict[str, Any]) -> list[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    sizes = {max(low - 1, 0), low, low + 1}
    if high is not None:
        sizes |= {high - 1, high, high + 1}
    texts = []
    for size in sorted(sizes):
        texts += ["a" * size, "é" * size, "€" * size]
    return texts


def _string(schema: dict[str, Any]) -> st.SearchStrategy:
    good = [*schema.get("examples", []), *[s["const"] for s in schema.get("oneOf", [])]]
    if "default" in schema:
        good.append(schema["default"])
    options = [
        st.text(TEXT, max_size=80),
        st.sampled_from(_sized(schema)),
        st.text(st.sampled_from("az09-./_ \t\n\x00\x01\x7f"), max_size=70),
    ]
    if good:
        mutated = [f"{value}{suffix}" for value in good for suffix in ("\n", "\x01", " ", "X")]
        options += [st.sampled_from(good), st.sampled_from(good), st.sampled_from(mutated)]
    pattern = schema.get("pattern")
    if pattern and "(?=" not in pattern:
        options.append(st.from_regex(pattern, fullmatch=True))
    return st.one_of(options)


def _number(schema: dict[str, Any], integral: bool) -> st.SearchStrategy:
    low = schema.get("minimum", -10)
    high = schema.get("maximum", low + 1000)
    edges = [low - 1, low, high, high + 1, *([schema["default"]] if "default" in schema else [])]
    options = [
        st.sampled_from(edges),
        st.integers(math.floor(low) - 5, math.ceil(high) + 5),
        st.floats(low - 1, high + 1, allow_nan=False),
    ]
    if integral:
        options.append(st.sampled_from([float(low), float(high), low + 0.5]))
    return st.one_of(options)


def value(schema: dict[str, Any]) -> st.SearchStrategy:
    """Values a form could hold for a property of this schema: of its type (or null), valid
    or not, with its edges."""
    kind = schema.get("type")
    if kind == "boolean":
        strategy = st.booleans()
    elif kind in ("integer", "number"):
        strategy = _number(schema, kind == "integer")
    elif kind == "object":
        name = st.one_of(st.from_regex(r"^[A-Za-z0-9-]{1,20}$", fullmatch=True), st.text(TEXT))
        strategy = st.one_of(
            st.dictionaries(
                name,
                st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
                max_size=4,
            ),
            st.dictionaries(name, st.text(TEXT, max_size=10), max_size=3),
            st.just({"big": "x" * 2100}),
        )
    elif kind == "string":
        strategy = _string(schema)
    else:
        strategy = st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(TEXT, max_size=20),
            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner),
            max_leaves=5,
        )
    return st.one_of(strategy, strategy, strategy, st.none())


def likely_valid(schema: dict[str, Any]) -> st.SearchStrategy:
    """Values of a property that its own rules accept, mostly."""
    kind = schema.get("type")
    if kind == "boolean":
        return st.booleans()
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 0), schema.get("maximum", 1000)
        if kind == "integer":
            return st.integers(math.ceil(low), math.floor(high))
        return st.floats(low, high, allow_nan=False)
    if kind == "object":
        names = st.from_regex(r"^[A-Za-z0-9-]{1,20}$", fullmatch=True)
        return st.dictionaries(names, st.text(st.characters(min_codepoint=32, max_codepoint=126)))
    if kind != "string":
        return value(schema)
    good = [*schema.get("examples", []), *[s["const"] for s in schema.get("oneOf", [])]]
    options = [st.sampled_from(good)] if good else []
    pattern = schema.get("pattern")
    if pattern and "(?=" not in pattern:
        options.append(st.from_regex(pattern, fullmatch=True))
    low, high = schema.get("minLength", 0), schema.get("maxLength", 40)
    options.append(
        st.text(
            st.characters(min_codepoint=33, max_codepoint=126), min_size=low, max_size=min(high, 40)
        )
    )
    return st.one_of(options)


def cases(schema: dict[str, Any], count: int) -> list[dict[str, Any]]:
    """`count` settings objects for `schema`, from hypothesis (the same ones every run): all
    fields at random, and a few fields with likely valid values."""
    properties = schema["properties"]
    wide = st.fixed_dictionaries({}, optional={name: value(p) for name, p in properties.items()})
    chosen = st.lists(st.sampled_from(sorted(properties)), max_size=3, unique=True)
    sparse = chosen.flatmap(
        lambda names: st.fixed_dictionaries({n: likely_valid(properties[n]) for n in names})
    )
    strategy = st.one_of(
        wide,
        sparse,
        sparse,
        wide.map(lambda case: {**case, "unknown_field": 1}),
    )
    drawn: list[dict[str, Any]] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def draw(case):
        drawn.append(case)

    draw()
    return drawn


def connector_verdict(
    descriptor_id: str, config: dict[str, Any], connection: Connection
) -> InvalidInput | None:
    """The connector's refusal of `config`, or None: the connection's settings as
    `Connection` loads them; an activity's as the harness prepares it, before any document."""
    try:
        if descriptor_id == "connection":
            settings_loader.load(ConnectionSchema, config)
        else:
            Harness(connection, registry=REGISTRY).prepare(descriptor_id, config)
    except InvalidInput as exc:
        return exc
    return None


def form_verdicts(schemas: dict[str, Any], batch: list[tuple[str, dict]], tmp: Path) -> list:
    return run_node_on_json("form_agreement.mjs", {"schemas": schemas, "cases": batch}, tmp, 300)


def runtime_rules(schema: dict[str, Any], field: str | None) -> list[str]:
    own = schema["properties"].get(field or "", {}).get("x-runtimeRules", [])
    return [*own, *schema.get("x-runtimeRules", [])]


def disagreements(
    schemas: dict[str, Any], connection: Connection, tmp: Path, ids: list[str] = IDS
) -> tuple[list[str], dict[str, dict[str, int]]]:
    batch = [(key, case) for key in ids for case in cases(schemas[key], CASES_PER_SCHEMA)]
    verdicts = form_verdicts(schemas, batch, tmp)
    problems, tally = [], {key: {"both ok": 0, "both refuse": 0, "runtime": 0} for key in ids}
    for (key, case), form in zip(batch, verdicts, strict=True):
        refusal = connector_verdict(key, case, connection)
        shown = f"{key} {json.dumps(case, ensure_ascii=True)[:300]}"
        if refusal is None and form["valid"]:
            tally[key]["both ok"] += 1
        elif refusal is not None and not form["valid"]:
            tally[key]["both refuse"] += 1
        elif refusal is None:
            problems.append(f"the form refuses what the connector accepts: {shown}: {form}")
        elif any(
            refusal.message.startswith(rule) for rule in runtime_rules(schemas[key], refusal.field)
        ):
            tally[key]["runtime"] += 1
        else:
            problems.append(
                f"the form accepts what the connector refuses ({refusal.field}: "
                f"{refusal.message}): {shown}"
            )
    return problems, tally


@pytest.mark.parametrize(
    ("rules", "connection_settings"),
    [(STRICT_INPUT_RULES, {}), (InputRules(True, True), CUSTOM_ENDPOINT)],
    ids=["amazon-s3", "custom-endpoint"],
)
def test_a_form_refuses_exactly_what_the_connector_refuses(tmp_path, rules, connection_settings):
    schemas = json_schemas(REGISTRY, rules)
    problems, tally = disagreements(schemas, Connection(connection_settings), tmp_path)
    assert problems == [], f"{len(problems)} disagreements, first:\n" + "\n".join(problems[:8])
    for key, counts in tally.items():
        assert sum(counts.values()) == CASES_PER_SCHEMA, (key, counts)
        assert counts["both ok"] >= 25 and counts["both refuse"] >= 25, (key, counts)
    print(json.dumps(tally))


def test_the_check_fails_on_a_schema_that_misses_a_rule(tmp_path):
    """The same check against a connection schema without its if/then rules finds cases a
    form would accept and the connector refuses."""
    schemas = json_schemas(REGISTRY)
    schemas["connection"] = {k: v for k, v in schemas["connection"].items() if k != "allOf"}
    problems, _ = disagreements(schemas, Connection({}), tmp_path, ["connection"])
    assert any(problem.startswith("the form accepts") for problem in problems)
