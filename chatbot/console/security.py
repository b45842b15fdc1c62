"""The web side's protections, installed once by the app factory: the session cookie's attributes, CSRF
on every form, the security headers on every response, and the client address behind reverse proxies.

The console is server-rendered with no inline script or style, so the Content-Security-Policy allows
scripts and styles from the service itself only; charts are PNGs in ``data:`` URLs, hence ``img-src``.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from chatbot.config import Config

#: The session cookie's name; with ``__Host-`` (Secure, host-only, Path=/) when served over HTTPS.
COOKIE_NAME = "nianjian_console"
#: A signed-in console session lasts this long, then the user signs in again.
SESSION_LIFETIME = timedelta(hours=8)

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

#: Sent with every response of the app (the console, the webhook, the health check).
HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
#: The page of a form refused for its missing or wrong CSRF token: title, what happened, what to do.
CSRF_PAGE = (
    "页面已过期，操作未执行",
    "这份表单没有有效的安全校验码：页面打开太久、已经退出登录，或者表单来自别的网站。为安全起见，本次操作没有执行。",
    "请返回管理台，刷新页面后重新操作；如已退出，请重新登录。",
)
#: Forms that carry a file, and the largest body each takes (the app's MAX_CONTENT_LENGTH, 64 KB, is
#: every other form's): a rubric sheet's workbook. Their fields other than the file stay within 64 KB.
UPLOAD_LIMITS: dict[str, int] = {"console.rubric_upload": 2 * 1024 * 1024}
FIELDS_LIMIT = 64 * 1024
#: One year of HTTPS only, sent when the console is served over HTTPS (CONSOLE_SECURE_COOKIES).
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def cookie_settings(config: Config) -> dict[str, object]:
    """Flask's session settings: HttpOnly, SameSite=Lax, Secure (and ``__Host-``) over HTTPS."""
    return {
        "SESSION_COOKIE_NAME": f"__Host-{COOKIE_NAME}" if config.secure_cookies else COOKIE_NAME,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": config.secure_cookies,
        "SESSION_COOKIE_PATH": "/",
        "PERMANENT_SESSION_LIFETIME": SESSION_LIFETIME,
        # A form's token is tied to its session (renewed at sign-in), not to a clock: a form left open
        # over lunch still submits while the session lasts.
        "WTF_CSRF_TIME_LIMIT": None,
    }


def install(app: Flask, config: Config, csrf_exempt: tuple[str, ...] = ()) -> None:
    """Protect ``app``: CSRF on every POST (but the blueprints named, which are signed otherwise),
    the headers on every response, and the client address from ``PROXY_HOPS`` trusted proxies."""
    app.config.update(cookie_settings(config))

    @app.before_request
    def upload_limit() -> None:  # before the CSRF check, which reads the form
        limit = UPLOAD_LIMITS.get(request.endpoint or "")
        if limit is not None and request.mimetype == "multipart/form-data":  # a file only comes so
            request.max_content_length = limit
            request.max_form_memory_size = FIELDS_LIMIT  # a text field of the form: as anywhere else

    csrf = CSRFProtect(app)
    for name in csrf_exempt:
        csrf.exempt(app.blueprints[name])
    if config.proxy_hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.proxy_hops, x_proto=config.proxy_hops, x_host=0
        )

    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if config.secure_cookies:
            response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
        if request.path.startswith("/console") and request.endpoint != "console.static":
            response.headers["Cache-Control"] = "no-store"  # people's data: never in a shared cache
        if request.path == "/n" or request.path.startswith("/n/"):
            # A notice's page, or what answers in its place (an unknown path, a wrong method): never
            # cached, never indexed, whichever view (or none) answered.
            response.headers["Cache-Control"] = "no-store"
            response.headers["X-Robots-Tag"] = "noindex, nofollow"
        return response

    @app.errorhandler(CSRFError)
    def csrf_refused(error: CSRFError) -> tuple[str, int]:
        page = render_template(
            "console/error.html", status=400, title=CSRF_PAGE[0], what=CSRF_PAGE[1], todo=CSRF_PAGE[2]
        )
        return page, 400
