"""Every user-facing text of the chat, in Simplified Chinese, one module per dialog so that the wording
can be reviewed in one place: ``common`` (welcome, help, progress, hints), ``walk`` (the item walk shared
by the self-check, the assessment, the re-review and the city's re-check), ``selfcheck``, ``assessment``,
``ballot``, ``paper``, ``binding``, ``publication`` and ``remediation``. The dialogs import them; no
text is written inside a dialog.

Numbers are formatted by ``rubrics.scoring.format_score`` (one decimal at most, half up) wherever a
score, total or percentage is shown.
"""
