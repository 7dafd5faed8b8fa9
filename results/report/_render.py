"""Rendering the report page: Jinja2 template, inlined assets, inlined data.

The page must open anywhere with no network, so the chart library (uPlot, vendored in
assets/), the page's own script and styles, and the history data are all inlined into one
HTML file. The data travels as JSON inside a `<script type="application/json">` element,
with every `</` escaped so no value in a history can end the element early.
"""

from __future__ import annotations

import datetime as _dt
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

HERE = Path(__file__).parent
ASSETS = HERE / "assets"


@lru_cache(maxsize=None)
def asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def bytecode_cache() -> jinja2.BytecodeCache | None:
    """The templates compiled once and kept between processes: compiling them is most of
    the report's own time in a short `gtcheck run` (issue 23 item 3). Jinja's own
    file cache, in its default place (a directory of this user's, mode 0700, in the
    temporary directory; Jinja refuses one it does not own), keyed by the template's
    source, so an edited template is compiled again. None (compile every time) when no
    such directory can be had."""
    try:
        return jinja2.FileSystemBytecodeCache()
    except (OSError, RuntimeError):  # no safe cache directory: render without one
        return None


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")),
                             autoescape=jinja2.select_autoescape(("html", "j2")),
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined,
                             bytecode_cache=bytecode_cache())
    env.filters["json_script"] = json_for_script
    env.globals["asset"] = asset
    return env


def json_for_script(data: Any) -> str:
    """JSON safe to place inside a <script> element (returned as markup)."""
    text = json.dumps(data, separators=(",", ":"), default=str, allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def render(template: str, **context: Any) -> str:
    context.setdefault("generated_at",
                       _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"))
    return environment().get_template(template).render(**context)
