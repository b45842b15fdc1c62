"""The baseline for the benchmark: a bare wechatpy echo webhook (signature check, parse, text reply)."""

from __future__ import annotations

from flask import Flask, Response, request
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

TOKEN = "benchtoken"
app = Flask(__name__)


@app.post("/wechat")
def echo() -> Response:
    args = request.args
    try:
        check_signature(TOKEN, args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", ""))
    except InvalidSignatureException:
        return Response("bad signature", status=403)
    message = parse_message(request.get_data())
    return Response(TextReply(message=message, content=message.content).render(), mimetype="application/xml")
