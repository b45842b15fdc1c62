"""The domain: organisations and campaigns, the self-check's return, evaluations and their electorate,
rating with the five-star quota per confirmed scope, publication and objections, sampling (抽查),
coverage, remediation (补课) and the audit log — plain functions over a SQLAlchemy ``Session`` that the
chat service, the console and the CLI share. The pure rules they apply (states, scores, stars, quota,
deadlines) live in ``rubrics/``."""
