"""The Jinja2 environment and the one function that renders a page."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from crosspromo.web import flash, i18n, validation


def chart_json(spec: Any) -> Markup:
    """A chart spec for a `<script type="application/json">`: raw JSON, and `</` cannot end it."""
    return Markup(json.dumps(spec, ensure_ascii=False).replace("</", "<\\/"))


@cache
def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([PackageLoader("crosspromo", "web/templates")]),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = i18n.money
    env.filters["number"] = i18n.number
    env.filters["day"] = i18n.day
    env.filters["moment"] = i18n.moment
    env.filters["major"] = i18n.major
    env.filters["message"] = i18n.message
    env.filters["chart_json"] = chart_json
    env.globals["field_error"] = validation.field_error
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page in the request's locale with the shell's context (user, csrf, switcher)."""
    web = getattr(request.state, "web", None)
    locale = i18n.pick_locale(request, web.user_locale if web else None)
    token = i18n.current_locale.set(locale)
    try:
        notice = flash.take(request)
        html = (
            environment()
            .get_template(template)
            .render(request=request, locale=locale, web=web, notice=notice, **context)
        )
    finally:
        i18n.current_locale.reset(token)
    response = HTMLResponse(html, status_code=status_code)
    if notice is not None or flash.FLASH_COOKIE in request.cookies:
        response.delete_cookie(flash.FLASH_COOKIE)
    return response
