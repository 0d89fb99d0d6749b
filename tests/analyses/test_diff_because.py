"""Why two policy sets are equivalent (`DiffResult.because`, kmssmt/symbolic/why_equal.py).

The definition checked, per inclusion: `old ⊆ new` holds in the pair that keeps its parts E1 (old
with every Allow and only the Denies of E1, new with only the Allows of E1 and every Deny), and
dropping any one part of E1 from that pair breaks it (a witness, or unknown); `new ⊆ old` mirrored
with E2. Also: the pair of the listed statements alone (old[E], new[E]) is equivalent. Checked with
`diff` on edited documents, for generated policies and a reordered, restated copy of each."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kmssmt.analyses.diff import DiffResult, diff
from kmssmt.policy.reading import parse_policy
from kmssmt.report import answer_json, diff_text
from kmssmt.symbolic.why_equal import EqualPart
from tests.strategies import policy_documents, to_policy

SETTINGS = settings(max_examples=100, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
Doc = dict[str, Any]


def _listed(values: object) -> list[Any]:
    return values if isinstance(values, list) else [values]


@st.composite
def restated(draw: st.DrawFn, document: Doc) -> Doc:
    """The same policy said otherwise: statements reordered, an Action or Resource list split into
    one statement per value or its values reordered, action names in another case, a statement
    written twice."""
    out: list[Doc] = []
    for statement in document["Statement"]:
        statement = copy.deepcopy(statement)
        element = "Action" if "Action" in statement else None
        how = draw(st.sampled_from(["keep", "split", "reorder", "case", "twice"]))
        if how == "split" and element and len(_listed(statement[element])) > 1:
            out += [dict(statement, **{element: value}) for value in _listed(statement[element])]
            continue
        if how == "reorder":
            for name in ("Action", "NotAction", "Resource", "NotResource"):
                if name in statement:
                    statement[name] = list(reversed(_listed(statement[name])))
        if how == "case" and element:
            statement[element] = [v.upper() if v.startswith("kms:") else v for v in _listed(statement[element])]
        out.append(statement)
        if how == "twice":
            out.append(copy.deepcopy(statement))
    order = draw(st.permutations(range(len(out))))
    return {"Version": "1", "Statement": [out[i] for i in order]}


def _index(parts: tuple[EqualPart, ...], side: str, effect: str) -> set[int]:
    return {p.statement.index for p in parts if p.side == side and p.statement.effect == effect}


def _keep(document: Doc, effect: str, indices: set[int]) -> Doc:
    """The document with every statement of the other effect and, of `effect`, those of `indices`."""
    return {"Version": "1", "Statement": [s for i, s in enumerate(document["Statement"])
                                          if s["Effect"] != effect or i in indices]}


def _compare(old: Doc, new: Doc) -> DiffResult:
    return diff([to_policy(old, "old.json")], [to_policy(new, "new.json")], timeout=30, max_witnesses=1,
                summary=False, explain=False)


def check_inclusion(small: Doc, large: Doc, small_side: str, parts: tuple[EqualPart, ...]) -> None:
    """small ⊆ large holds in the pair that keeps `parts` (small's Denies, large's Allows), and not
    without any one of them."""
    large_side = "new" if small_side == "old" else "old"
    denies, allows = _index(parts, small_side, "Deny"), _index(parts, large_side, "Allow")

    def holds(deny_set: set[int], allow_set: set[int]) -> str:
        kept_small, kept_large = _keep(small, "Deny", deny_set), _keep(large, "Allow", allow_set)
        old, new = (kept_small, kept_large) if small_side == "old" else (kept_large, kept_small)
        result = _compare(old, new)
        if result.relation == "unknown":
            return "unknown"
        return "no" if (result.old_only if small_side == "old" else result.new_only) else "yes"

    assert holds(denies, allows) == "yes", (small_side, parts)
    for index in denies:
        assert holds(denies - {index}, allows) in ("no", "unknown"), (small_side, "Deny", index)
    for index in allows:
        assert holds(denies, allows - {index}) in ("no", "unknown"), (small_side, "Allow", index)


def check_explained(old: Doc, new: Doc) -> None:
    result = diff([to_policy(old, "old.json")], [to_policy(new, "new.json")], timeout=30, max_witnesses=2)
    assert result.relation == "equivalent", result.reason
    why = result.because
    assert why is not None, "an equivalent answer says why"
    assert all(p.side == "old" and p.role == "deny-refuses" or p.side == "new" and p.role == "allow-covers"
               for p in why.old_in_new)
    assert all(p.side == "new" and p.role == "deny-refuses" or p.side == "old" and p.role == "allow-covers"
               for p in why.new_in_old)
    check_inclusion(old, new, "old", why.old_in_new)
    check_inclusion(new, old, "new", why.new_in_old)
    listed = {side: {p.statement.index for p in why.side(side)} for side in ("old", "new")}
    alone = [{"Version": "1", "Statement": [s for i, s in enumerate(d["Statement"]) if i in listed[side]]}
             for d, side in ((old, "old"), (new, "new"))]
    assert _compare(*alone).relation == "equivalent", listed
    assert diff_text.equal_sentences(why)


@SETTINGS
@given(st.data(), policy_documents())
def test_a_policy_and_its_restated_copy_explained(data: st.DataObject, document: Doc) -> None:
    check_explained(document, data.draw(restated(document)))


def document(**statements: Doc) -> str:
    return json.dumps({"Version": "1", "Statement": [dict(s, Sid=sid) for sid, s in statements.items()]}, indent=2)


def test_the_sentences_name_each_side_s_statements() -> None:
    allow = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}
    old = parse_policy(document(A=allow), "old.json")
    new = parse_policy(document(B=dict(allow, Action=["KMS:decrypt"])), "new.json")
    assert diff_text.render(diff([old], [new])).splitlines()[2:4] == [
        "  equal because:", "    both allow exactly: old's Allow 'A' (old.json:4:5) / new's Allow 'B' (new.json:4:5)"]
    denied_old = parse_policy(document(A=allow, X={"Effect": "Deny", "Action": "kms:*", "Resource": "*"}), "f.json")
    denied_new = parse_policy(document(B=dict(allow, Action="kms:Encrypt"),
                                       Y={"Effect": "Deny", "Action": "*", "Resource": "*"}), "g.json")
    assert diff_text.render(diff([denied_old], [denied_new])).splitlines()[3] == (
        "    old's Deny 'X' (f.json:10:5) and new's Deny 'Y' (g.json:10:5) cover every request either side's "
        "Allows grant: neither side allows anything")
    mixed = parse_policy(document(A1=allow, A2=dict(allow, Action="kms:Encrypt"),
                                  X={"Effect": "Deny", "Action": "kms:Encrypt", "Resource": "*"}), "m.json")
    result = diff([mixed], [new])
    assert diff_text.render(result).splitlines()[3:5] == [
        "    what old's Allows grant, new allows through new's Allow 'B' (new.json:4:5), or old's Deny 'X' "
        "(m.json:16:5) refuses it",
        "    what new's Allows grant, old allows through old's Allow 'A1' (m.json:4:5)"]
    data = json.loads(answer_json.render(result))
    assert [(e["sid"], e["role"], e["carries"]) for e in data["because"]["old"]] == [
        ("X", "deny-refuses", "old-in-new"), ("A1", "allow-covers", "new-in-old")]
    assert data["because"]["new"] == [
        {"statement": "Sid 'B' (new.json:4)", "sid": "B", "file": "new.json", "line": 4, "column": 5,
         "effect": "Allow", "role": "allow-covers", "carries": "old-in-new"}]


def test_a_side_with_no_allow_and_only_when_equivalent() -> None:
    empty = parse_policy(document(X={"Effect": "Deny", "Action": "kms:*", "Resource": "*"}), "old.json")
    denied = parse_policy(document(A={"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"},
                                   Y={"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"}), "new.json")
    result = diff([empty], [denied])
    assert diff_text.equal_sentences(result.because) == [  # type: ignore[arg-type]
        "old allows nothing: no Allow of old grants any request",
        "new allows nothing: new's Deny 'Y' (new.json:10:5) refuses every request new's Allows grant"]
    different = diff([denied], [parse_policy(document(A={"Effect": "Allow", "Action": "kms:Decrypt",
                                                          "Resource": "*"}), "n.json")])
    assert different.relation == "new-more" and different.because is None
    assert different.to_json()["because"] is None and "equal because" not in diff_text.render(different)
    assert diff([empty], [denied], explain=False).because is None
