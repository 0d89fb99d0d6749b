"""Renderers: every text the commands write about a result.

One module per result and format, `<result>_<format>.py`, each with one `render(result, ...) -> str`
(options a format needs, such as the tool version of SARIF, follow the result):

* prove_text, diff_text, eval_text: the answers of `prove`, `diff` and `eval`, on policies or on an
  account snapshot; answer_json: the JSON of any of them (their `to_json()`);
* audit_md, audit_html, audit_json, audit_sarif: the audit report;
* findings_text, findings_json, findings_sarif: the findings of `validate`.

Shared parts: sarif (the SARIF 2.1.0 writer), qualifiers (what an answer leaned on). findings_doc
writes docs/findings.md from the rule registry.
"""
