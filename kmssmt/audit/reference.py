"""The access matrix one cell at a time: the straightforward definition the class-based matrix
(`MatrixEngine`, kmssmt/audit/matrix.py) is tested against."""

from __future__ import annotations

from collections.abc import Iterable

from kmssmt.account.snapshot import Account, Resource
from kmssmt.audit.api_calls import api_answer, api_cell
from kmssmt.audit.cells import describe_cell
from kmssmt.audit.matrix import category_actions
from kmssmt.audit.model import Category, Cell
from kmssmt.language.glob import fold
from kmssmt.policy.ast import Statement
from kmssmt.semantics.evaluate import StatementRef
from kmssmt.symbolic.account_filter import EXTERNAL, Who
from kmssmt.symbolic.account_model import AccountModel


def _label(who: Who) -> str:
    return who.label if who is not None else EXTERNAL


def _statement_index(account: Account) -> dict[tuple[str, int, int], Statement]:
    out: dict[tuple[str, int, int], Statement] = {}
    for policy in account.all_policies():
        for statement in policy.statements:
            out[(statement.span.file, statement.span.line, statement.span.column)] = statement
    return out


class ResourceAuditor:
    """One cell at a time, each answer asked of the account model and replayed."""

    def __init__(self, account: Account, model: AccountModel):
        self.account = account
        self.model = model
        self.statements = _statement_index(account)

    def cell(self, who: Who, resource: Resource, category: Category) -> Cell | None:
        actions = category_actions(resource.kind, category)
        answer = self.model.ask(who, resource.arn, actions)
        if answer.status == "unsat":
            return None
        if answer.status == "unknown":
            return Cell(_label(who), resource.label, category, "unknown", (answer.reason,), None, ())
        relevant = self.model.relevant(who, resource.arn, actions)
        unconditional, labels, always = describe_cell(self.model.describe_allowed(relevant, actions, who is None),
                                                      actions)
        witness, statements = answer.witness, answer.statements
        if always is not None:  # the witness of an action allowed for every request
            full = self.model.ask(who, resource.arn, [always])
            witness, statements = full.witness, full.statements
        labels += self._tags(statements)
        return self._api(Cell(_label(who), resource.label, category,
                              "unconditional" if unconditional else "conditional", tuple(labels), witness,
                              statements), who, resource)

    def _api(self, cell: Cell, who: Who, resource: Resource) -> Cell:
        answer = api_answer(self.model, who, resource, cell.category)
        if answer is None:
            return cell
        access, conditions = api_cell(self.model, who, resource, answer,
                                      category_actions(resource.kind, cell.category), cell.conditions)
        return Cell(cell.principal, cell.resource, cell.category, access, conditions, cell.witness, cell.statements)

    def _tags(self, refs: Iterable[StatementRef]) -> tuple[str, ...]:
        out = []
        for ref in refs:
            statement = self.statements.get((ref.file, ref.line, ref.column))
            if statement is None:
                continue
            for clause in statement.conditions:
                if fold(clause.key).startswith(("kms:tag/", "acs:resourcetag/")):
                    values = "|".join(v.text for v in clause.values)
                    out.append(f"with tag {clause.key.split('/', 1)[1]}={values}")
        return tuple(dict.fromkeys(out))
