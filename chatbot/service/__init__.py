"""The chat service: one inbound message → one reply, applied exactly once. ``turn`` runs the path
(dedup → lock → state → route → context → dialog → apply → commit → reply), ``context`` loads the
read-only snapshot a dialog sees, ``apply`` applies a dialog's commands through the domain in the turn's
transaction."""
