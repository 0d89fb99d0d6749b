"""Matrix columns that stand for an API call rather than one permission.

The catalog's `api_dependencies` say when a call needs permissions on other resources: reading a
secret is the GetSecretValue call, which also needs kms:Decrypt on the secret's customer key. The
cell keeps the permission's answer (and its witness); its labels say whether the API call itself
succeeds, naming the missing permission when it does not, and its access is "fails" (never "yes")
when the call can never succeed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from kmssmt.account.decide import Need, api_needs
from kmssmt.account.snapshot import Account, Key, Resource
from kmssmt.audit.cells import cubes_text, describe_cell
from kmssmt.audit.matrix import DECRYPT, Grant, MatrixEngine, ResourceResult, category_actions
from kmssmt.audit.model import CATEGORIES, Access, CellLabel
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
    """The answer's own line in a cell's label."""
    if answer.status == "sat":
        return f"{answer.api} succeeds (with " + ", ".join(n.label for n in answer.needs[1:]) + ")"
    return answer.explain()


class ApiShape(NamedTuple):
    """An API cell's label apart from the resources the answer names: its access and the labels
    around the answer's own line (`ApiShape.label` writes them for one answer). Cells whose
    statements have the same content for every need share it."""

    access: Access
    before: tuple[str, ...]
    after: tuple[str, ...]

    def label(self, answer: ApiAnswer, conditions: tuple[str, ...]) -> CellLabel:
        """The cell's label for `answer`; `conditions`: the permission-level labels the matrix found
        (its "with tag" labels are kept)."""
        if self.access == "unknown":
            return CellLabel("unknown", (answer.explain(),))
        tags = tuple(c for c in conditions if c.startswith("with tag "))
        return CellLabel(self.access, (*self.before, _api_label(answer), *self.after, *tags))


def api_cell(model: AccountModel, who: Who, resource: Resource, answer: ApiAnswer, actions: Sequence[str],
             conditions: tuple[str, ...]) -> CellLabel:
    """How a cell whose column stands for an API call reads (`api_shape`, then its label for `answer`)."""
    return api_shape(model, who, resource, answer, actions).label(answer, conditions)


def api_shape(model: AccountModel, who: Who, resource: Resource, answer: ApiAnswer,
              actions: Sequence[str]) -> ApiShape:
    """How a cell whose column stands for an API call reads (the column's permission is
    `answer.needs[0].action`, one of the category's `actions`), from the API answer, never a "yes" for
    a call that cannot succeed: the call's action counts as allowed exactly where every permission of
    the call is allowed in one request (`AccountModel.describe_api`); the category's other actions keep
    their own allowed sets. "fails" when nothing of the cell is left."""
    if answer.status == "unknown":
        return ApiShape("unknown", (), ())
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
        return ApiShape("unconditional" if unconditional else "conditional", tuple(labels), ())
    if rest:
        unconditional, labels, _ = describe_cell(rest, actions)
        return ApiShape("unconditional" if unconditional else "conditional", tuple(labels), ())
    alone = f"{action} alone is allowed"
    own = next((cubes_text(cubes) for members, cubes in groups if action in members), None)
    if own is not None:
        alone += f" ({own})"
    return ApiShape("fails", (), (alone,))


class ApiOutcome(NamedTuple):
    """What the checks read of an API answer: its status and its one-line explanation (plain data: a
    worker process sends tens of thousands of them, and a whole `ApiAnswer` costs many times more to
    send and to read back)."""

    status: str  # "sat" | "unsat" | "unknown"
    explanation: str

    @staticmethod
    def of(answer: ApiAnswer) -> ApiOutcome:
        return ApiOutcome(answer.status, answer.explain())


def has_api_columns(account: Account, index: int) -> bool:
    resource = account.resources[index]
    return any(kind == resource.kind and len(api_needs(account, api, resource.arn)) >= 2
               for (kind, _), api in API_OF.items())


class ApiLabeller:
    """Labels the cells of `API_OF` columns with the API-level answer, one resource's matrix row at a
    time, right after the row is written (in the process that wrote it). The same answers as
    `api_answer`, found cheaply where the matrix already knows them: the cell proves the first need
    (the permission of the column); a kms:Decrypt need on a key of the snapshot is never allowed when
    the key's kms:Decrypt question has no answer for the principal (the matrix's class proves it);
    otherwise `AccountModel.api_ask` decides (one solve and replay per content class).

    Cells whose own class and whose needs' classes (kms:Decrypt on a key of the snapshot named by its
    own ARN: the key's kms:Decrypt class, `MatrixEngine.classes_of`) are the same have the same
    statements for every need, hence the same answer and the same label up to the resources the needs
    name. Such a combination is decided once per process (`ApiShape` and the answer's status and
    missing needs) and written once per resource."""

    def __init__(self, account: Account, model: AccountModel, engine: MatrixEngine):
        self.account = account
        self.model = model
        self.engine = engine
        self.positions = {resource.arn: i for i, resource in enumerate(account.resources)}
        self._shapes: dict[tuple[object, ...], tuple[ApiAnswer, ApiShape]] = {}

    def label(self, result: ResourceResult) -> None:
        """Label the API columns' cells of one resource's row in place (a labelled cell points to a
        new grant of the row) and note their answers in `result.api`."""
        account, index = self.account, result.index
        resource = account.resources[index]
        for category in (c for kind, c in API_OF if kind == resource.kind):
            api = API_OF[(resource.kind, category)]
            needs = api_needs(account, api, resource.arn)
            if len(needs) < 2:
                continue
            column = CATEGORIES.index(category)
            actions = category_actions(resource.kind, category)
            others = self._need_places(needs)
            written: dict[tuple[object, ...], tuple[tuple[str, str], int]] = {}
            grant_ids = {grant: n for n, grant in enumerate(result.grants)}
            classes = self.engine.classes_of
            for position, (pindex, question, grant_index, refs) in enumerate(result.cells):
                grant = result.grants[grant_index]
                if question != column or grant.access == "unknown":
                    continue
                combination: tuple[object, ...] | None = None
                if others is not None:
                    combination = (api, column, classes(index, pindex)[column], grant,
                                   tuple(classes(place, pindex)[q] for place, q in others))
                found = written.get(combination) if combination is not None else None
                if found is None:
                    answer, shape = self._decide(combination, pindex, resource, api, needs, actions)
                    label = shape.label(answer, grant.conditions)
                    labelled = Grant(label.access, label.conditions, grant.action, grant.other, grant.context)
                    new = grant_ids.get(labelled)
                    if new is None:
                        new = grant_ids[labelled] = len(result.grants)
                        result.grants.append(labelled)
                    found = ((answer.status, answer.explain()), new)
                    if combination is not None:
                        written[combination] = found
                (status, explanation), new = found
                result.cells[position] = (pindex, question, new, refs)
                result.api.append((pindex, status, explanation))

    def _decide(self, combination: tuple[object, ...] | None, pindex: int, resource: Resource, api: str,
                needs: tuple[Need, ...], actions: Sequence[str]) -> tuple[ApiAnswer, ApiShape]:
        """The API answer of one cell (its needs named) and its shape: from the combination when it
        was decided before in this process, asked otherwise."""
        known = self._shapes.get(combination) if combination is not None else None
        if known is not None:
            first, shape = known
            missing = tuple(needs[first.needs.index(n)] for n in first.missing)
            return ApiAnswer(first.api, first.status, needs, missing=missing, reason=first.reason), shape
        account = self.account
        who = account.principals[pindex] if pindex < len(account.principals) else None
        missing = tuple(n for n in needs[1:] if n.action == "kms:Decrypt" and not self._decrypts(n.resource, pindex))
        answer = ApiAnswer(api, "unsat", needs, missing=missing) if missing else \
            self.model.api_ask(who, api, resource.arn)
        shape = api_shape(self.model, who, resource, answer, actions)
        if combination is not None:
            self._shapes[combination] = (answer, shape)
        return answer, shape

    def _decrypts(self, key_arn: str, pindex: int) -> bool:
        """False when the matrix proves the principal never allowed kms:Decrypt on a key of the
        snapshot named by its own ARN; True otherwise (the solver decides)."""
        place = self.positions.get(key_arn)
        if place is None or not isinstance(self.account.resources[place], Key):
            return True
        return self.engine.allows(place, pindex, DECRYPT)

    def _need_places(self, needs: Sequence[Need]) -> list[tuple[int, int]] | None:
        """Per need after the first, the (resource index, question) of the matrix whose class holds
        exactly the need's statements: only kms:Decrypt on a key of the snapshot named by its own ARN
        (None when some need is not such: its cells are then decided one by one)."""
        out = []
        for need in needs[1:]:
            place = self.positions.get(need.resource)
            if need.action != "kms:Decrypt" or place is None or not isinstance(self.account.resources[place], Key):
                return None
            out.append((place, DECRYPT))
        return out
