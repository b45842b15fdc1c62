"""The conversations as pure state machines: (state, input) → (reply, new state, commands).

No Flask, SQLAlchemy, Redis or wechatpy here: dialogs are read and tested on their own.
"""
