"""One-time messages after an action ("Sent to True North Cafe"), carried across the redirect.

The message travels as its English msgid plus parameters in a short-lived cookie and is
translated when the next page renders, so it reads in the language of that page.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from crosspromo.web import i18n

FLASH_COOKIE = "cp_flash"
_MAX_PARAM = 200


def redirect(url: str, message: str, *, error: bool = False, **params: Any) -> RedirectResponse:
    """A 303 to `url` that shows `message` (a msgid with %(name)s parameters) once there."""
    response = RedirectResponse(url, status_code=303)
    flash(response, message, error=error, **params)
    return response


def flash(response: Response, message: str, *, error: bool = False, **params: Any) -> None:
    safe = {k: str(v)[:_MAX_PARAM] for k, v in params.items()}
    payload = json.dumps({"m": message, "p": safe, "e": error}, ensure_ascii=False)
    value = base64.urlsafe_b64encode(payload.encode()).decode()
    response.set_cookie(FLASH_COOKIE, value, max_age=120, httponly=True, samesite="lax")


def take(request: Request) -> dict[str, Any] | None:
    """The pending message translated into the current locale, or None."""
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw or len(raw) > 4096:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
        params = {str(k): str(v) for k, v in dict(data.get("p", {})).items()}
        text = i18n.gettext(str(data["m"]), **params)
    except (ValueError, KeyError, TypeError):
        return None
    return {"text": text, "error": bool(data.get("e"))}
