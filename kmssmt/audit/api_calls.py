"""Matrix columns that stand for an API call rather than one permission.

The catalog's `api_dependencies` say when a call needs permissions on other resources: reading a
secret is the GetSecretValue call, which also needs kms:Decrypt on the secret's customer key. The
cell keeps the permission's answer (and its witness); its labels say whether the API call itself
succeeds, naming the missing permission when it does not, and its access is "fails" (never "yes")
when the call can never succeed."""

from __future__ import annotations

from collections.abc import Sequence

from kmssmt.account.decide import api_needs
from kmssmt.account.snapshot import Account, Key, Resource
from kmssmt.audit.cells import cubes_text, describe_cell
from kmssmt.audit.matrix import ResourceResult, category_actions
from kmssmt.audit.model import CATEGORIES, CellLabel, Matrix
from kmssmt.errors import ReplayError
from kmssmt.symbolic.account_api import ApiAnswer
from kmssmt.symbolic.account_filter import EXTERNAL, Who
from kmssmt.symbolic.account_model import AccountModel

# The API call a (resource kind, category) column stands for.
API_OF = {("secret", "use"): "GetSecretValue"}


def api_answer(model: AccountModel, who: Who, resource: Resource, category: str) -> ApiAnswer | None:
    """The API-level answer behind a cell with access, or None when the category stands for no API
    call with needs beyond the permission itself (a secret the service's own key encrypts)."""
    api = API_OF.get((resource.kind, category))
    if api is None or len(api_needs(model.account, api, resource.arn)) < 2:
        return None
    return model.api_ask(who, api, resource.arn)


def _api_label(answer: ApiAnswer) -> str:
    if answer.status == "sat":
        return f"{answer.api} succeeds (with " + ", ".join(n.label for n in answer.needs[1:]) + ")"
    return answer.explain()


def api_cell(model: AccountModel, who: Who, resource: Resource, answer: ApiAnswer, actions: Sequence[str],
             conditions: tuple[str, ...]) -> CellLabel:
    """How a cell whose column stands for an API call reads (the column's permission is
    `answer.needs[0].action`, one of the category's `actions`), from the API answer, never a "yes" for
    a call that cannot succeed: the call's action counts as allowed exactly where every permission of
    the call is allowed in one request (`AccountModel.describe_api`); the category's other actions keep
    their own allowed sets. "fails" when nothing of the cell is left. `conditions`: the permission-level
    labels the matrix found (its "with tag" labels are kept)."""
    tags = tuple(c for c in conditions if c.startswith("with tag "))
    if answer.status == "unknown":
        return CellLabel("unknown", (answer.explain(),))
    action = answer.needs[0].action
    groups = model.describe_allowed(model.relevant(who, resource.arn, actions), actions, who is None)
    rest = [(tuple(a for a in members if a != action), cubes) for members, cubes in groups]
    rest = [(members, cubes) for members, cubes in rest if members]
    if answer.status == "sat":
        cubes = model.describe_api(who, answer.api, resource.arn)
        if cubes == []:
            raise ReplayError(f"{answer.api} on {resource.label} succeeds for {who.label if who else EXTERNAL}, "
                              "but no request context is described")
        unconditional, labels, _ = describe_cell([((action,), cubes), *rest], actions)
        return CellLabel("unconditional" if unconditional else "conditional",
                         (*labels, _api_label(answer), *tags))
    if rest:
        unconditional, labels, _ = describe_cell(rest, actions)
        return CellLabel("unconditional" if unconditional else "conditional", (*labels, answer.explain(), *tags))
    alone = f"{action} alone is allowed"
    own = next((cubes_text(cubes) for members, cubes in groups if action in members), None)
    if own is not None:
        alone += f" ({own})"
    return CellLabel("fails", (answer.explain(), alone, *tags))


def label_api_cells(matrix: Matrix, account: Account, model: AccountModel, results: list[ResourceResult]
                    ) -> dict[tuple[int, int], ApiAnswer]:
    """Label the cells of `API_OF` columns with the API-level answer (in place); the answers by
    (resource index, principal index). The same answers as `api_answer`, found cheaply where the
    matrix already knows them: the cell proves the first need (the permission of the column); a
    kms:Decrypt need on a key of the snapshot is never allowed when the key's kms:Decrypt question
    has no answer for the principal (proven by the matrix); otherwise `AccountModel.api_ask`
    decides (one solve and replay per content class)."""
    ids = {grant: i for i, grant in enumerate(matrix.grants)}
    decrypters = {account.resources[r.index].arn: set(r.decrypters) for r in results}
    answers: dict[tuple[int, int], ApiAnswer] = {}
    for index, resource in enumerate(account.resources):
        for category in (c for kind, c in API_OF if kind == resource.kind):
            api = API_OF[(resource.kind, category)]
            needs = api_needs(account, api, resource.arn)
            if len(needs) < 2:
                continue
            column = CATEGORIES.index(category)
            actions = category_actions(resource.kind, category)
            rows = matrix.rows[index]
            for position, row in enumerate(rows):
                pindex, cat, grant_index, refs = row
                grant = matrix.grants[grant_index]
                if cat != column or grant[0] == "unknown":
                    continue
                who = account.principals[pindex] if pindex < len(account.principals) else None
                missing = tuple(n for n in needs[1:] if n.action == "kms:Decrypt"
                                and isinstance(account.owner_of(n.resource), Key)
                                and pindex not in decrypters.get(n.resource, set()))
                answer = ApiAnswer(api, "unsat", needs, missing=missing) if missing else \
                    model.api_ask(who, api, resource.arn)
                answers[(index, pindex)] = answer
                labelled = (*api_cell(model, who, resource, answer, actions, grant[1]), *grant[2:])
                new = ids.get(labelled)
                if new is None:
                    new = ids[labelled] = len(matrix.grants)
                    matrix.grants.append(labelled)
                rows[position] = (pindex, cat, new, refs)
    return answers
