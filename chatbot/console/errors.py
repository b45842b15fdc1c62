"""Error pages in Chinese (400, 403, 404, 405, 413, any other 4xx, 500) for every path of the app, the
console's look and links: never werkzeug's English page.

The webhook's errors stay short plain text: WeChat reads no HTML, and the webhook answers its own
failures itself (never a 500 to WeChat)."""

from __future__ import annotations

import logging

from flask import Response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from chatbot.console.pages import bp
from chatbot.console.security import UPLOAD_LIMITS

log = logging.getLogger(__name__)

#: status → (title, what happened, what to do), as the page says it.
PAGES: dict[int, tuple[str, str, str]] = {
    400: (
        "请求内容有误",
        "地址或表单里有无法处理的内容（例如不可见的控制字符），本次操作没有执行。",
        "请返回上一页，检查填写的内容后重新提交。",
    ),
    403: (
        "无权访问",
        "您的账号没有办理此项的权限：此页面或操作仅限市总工会账号，或不属于您所在的县（区）。",
        "如需办理，请联系市总工会组织部。",
    ),
    404: (
        "页面不存在",
        "没有找到您要的页面：链接可能有误，或该单位、记录不在您的管辖范围内。",
        "请检查链接，或从总览页重新进入。",
    ),
    405: (
        "操作方式不正确",
        "此地址不能这样打开：请通过页面上的按钮办理，不要直接在地址栏输入。",
        "请返回上一页，重新点击按钮。",
    ),
    413: (
        "提交的内容过长",
        "表单内容超过了管理台允许的大小（64 KB），本次操作没有执行。",
        "请缩短填写的文字后重新提交；内容较多时请分几次保存。",
    ),
    500: (
        "系统出错",
        "处理您的请求时系统出错，本次操作没有完成，已记录错误以便排查。",
        "请稍后再试；如多次出现，请联系系统管理员。",
    ),
}
#: A file over its form's limit (security.UPLOAD_LIMITS): the file is too large, not the text typed.
FILE_TOO_LARGE = (
    "文件过大",
    "上传的文件超过了 {limit} MB，没有读取，也没有保存任何内容。",
    "考评标准表通常只有几十 KB：请确认选择的是按实施方案版式填写的 .xlsx 文件，删去其中的图片后重新上传。",
)
#: Any other refusal (4xx) werkzeug may raise.
OTHER = (
    "请求未能处理",
    "管理台无法处理这个请求，本次操作没有执行。",
    "请返回上一页重新操作；如多次出现，请联系系统管理员。",
)


def _page(status: int) -> tuple[str, int] | Response:
    title, what, todo = PAGES.get(status, OTHER if status < 500 else PAGES[500])
    limit = UPLOAD_LIMITS.get(request.endpoint or "")
    length = request.content_length
    if status == 413 and limit is not None and (length is None or length > limit):
        title, what, todo = FILE_TOO_LARGE
        what = what.format(limit=limit // (1024 * 1024))
    if request.path.startswith("/wechat"):
        return Response(title, status=status, mimetype="text/plain")
    return render_template("console/error.html", status=status, title=title, what=what, todo=todo), status


@bp.app_errorhandler(HTTPException)
def client_error(error: HTTPException) -> Response:
    code = error.code or 400
    if code >= 500:
        log.error("console error on %s %s: %s", request.method, request.path, error)
    response = _page(code)
    if isinstance(response, tuple):
        response = Response(response[0], status=response[1], mimetype="text/html")
    allowed = error.get_response().headers.get("Allow")  # 405 says which methods would do
    if allowed:
        response.headers["Allow"] = allowed
    return response


@bp.app_errorhandler(InternalServerError)
def server_error(error: InternalServerError) -> tuple[str, int] | Response:
    log.error("console error on %s %s: %s", request.method, request.path, error.original_exception or error)
    return _page(500)
