"""`s3c descriptors preview -o DIR`: a static page that renders the connection's form and
every activity's with a stock JSON-Schema form library, json-editor (vendored in
`preview_assets/`, MIT), straight from the exported JSON Schemas: what a designer's user sees.

The page needs no network and no server (it opens from file://). Errors show as the user
types; each form's JSON value shows under it.
"""

from __future__ import annotations

import html
import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

ASSETS = ("jsoneditor.js", "LICENSE", "jsoneditor.js.LICENSE.txt")
LIBRARY = "json-editor 2.17.2"

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>s3-connector: designer preview</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 0; display: flex; gap: 24px; padding: 16px; }}
section {{ flex: 1; min-width: 0; }}
h1 {{ font-size: 18px; }} h2 {{ font-size: 16px; }}
pre {{ background: #f4f4f4; padding: 8px; white-space: pre-wrap; word-break: break-all; }}
.je-form-input-label, label {{ font-weight: 600; }}
div[data-theme="html"] p.je-form-input-label {{ font-weight: normal; color: #444; }}
.invalid-feedback, .errmsg {{ color: #b00020; }}
select#activity {{ font-size: 14px; }}
</style>
<script src="jsoneditor.js"></script>
</head>
<body>
<section id="connection-pane">
<h1>Connection</h1>
<div id="connection-form"></div>
<h2>Value</h2><pre id="connection-value"></pre>
<h2>Errors</h2><pre id="connection-errors"></pre>
</section>
<section id="activity-pane">
<h1>Activity <select id="activity">{options}</select></h1>
<div id="activity-form"></div>
<h2>Value</h2><pre id="activity-value"></pre>
<h2>Errors</h2><pre id="activity-errors"></pre>
</section>
<script id="schemas" type="application/json">{schemas}</script>
<script>
const schemas = JSON.parse(document.getElementById("schemas").textContent);
const options = {{
  theme: "html",
  show_errors: "always",
  show_opt_in: true,
  disable_edit_json: true,
  disable_properties: true,
  disable_collapse: true,
  prompt_before_delete: false,
  keep_oneof_values: false,
  enforce_const: true,
}};
window.forms = {{}};
function mount(name, schema) {{
  const holder = document.getElementById(name + "-form");
  if (window.forms[name]) window.forms[name].destroy();
  holder.innerHTML = "";
  const form = new JSONEditor(holder, {{ ...options, schema }});
  window.forms[name] = form;
  const show = () => {{
    document.getElementById(name + "-value").textContent = JSON.stringify(form.getValue(), null, 2);
    const errors = form.validate().map((error) => error.path + ": " + error.message);
    document.getElementById(name + "-errors").textContent = errors.join("\\n");
  }};
  form.on("ready", show);
  form.on("change", show);
  return form;
}}
mount("connection", schemas.connection);
const picker = document.getElementById("activity");
picker.addEventListener("change", () => mount("activity", schemas[picker.value]));
mount("activity", schemas[picker.value]);
</script>
</body>
</html>
"""


def write_preview(directory: Path, bundle: dict[str, Any]) -> Path:
    """Write the page and the library into `directory` (created when missing); return the
    page's path."""
    directory.mkdir(parents=True, exist_ok=True)
    assets = resources.files("s3_connector.sdk") / "preview_assets"
    for name in ASSETS:
        with resources.as_file(assets / name) as source:
            shutil.copyfile(source, directory / name)
    schemas = bundle["json_schemas"]
    options = "".join(
        f'<option value="{html.escape(a["id"])}">{html.escape(a["name"])}</option>'
        for a in bundle["activities"]
    )
    text = json.dumps(schemas, ensure_ascii=True).replace("</", "<\\/")
    index = directory / "index.html"
    index.write_text(_PAGE.format(options=options, schemas=text), encoding="utf-8")
    return index
