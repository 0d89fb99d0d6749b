"""The rules of the schema checks (KMS100..KMS199): what kmssmt.policy.schema reports about a document
whose JSON is read but whose elements, types or values are not what the policy language allows."""

from __future__ import annotations

from kmssmt.policy.findings import rule
from kmssmt.policy.limits import IDENTITY_POLICY_LIMIT, RESOURCE_POLICY_LIMIT

MISSING_VERSION = rule(
    "KMS100", "warning", "Missing Version",
    "The document has no `Version` element. The service assumes version \"1\", the only one there is.",
    '{"Statement": [...]}',
    'Add "Version": "1".',
)
BAD_VERSION = rule(
    "KMS101", "error", "Version is not \"1\"",
    "The only policy language version is the string \"1\"; anything else is rejected by the service.",
    '{"Version": "2012-10-17", "Statement": [...]}',
    'Use "Version": "1".',
)
MISSING_STATEMENT = rule(
    "KMS102", "error", "Missing Statement",
    "The document has no `Statement` element; the service rejects it. It grants nothing.",
    '{"Version": "1"}',
    "Add the statements.",
)
BAD_STATEMENT = rule(
    "KMS103", "error", "Statement is not a list or object",
    "`Statement` must be a list of statement objects (or one statement object); the service rejects "
    "anything else. Entries that are not objects are ignored.",
    '{"Version": "1", "Statement": "Allow"}',
    "Write Statement as a list of objects.",
)
UNKNOWN_ELEMENT = rule(
    "KMS104", "error", "Unknown element",
    "An element name the policy language does not define (at the top level: Version, Statement; in a "
    "statement: Sid, Effect, Action, NotAction, Resource, NotResource, Principal, Condition). The service "
    "rejects the document; the element is ignored.",
    '{"Effect": "Allow", "Actions": "kms:*", "Resource": "*"}',
    "Correct the element name.",
)
WRONG_CASE = rule(
    "KMS105", "error", "Element name in the wrong case",
    "Element names are case-sensitive: `action` is not `Action`. The service rejects the document; the "
    "element is read under its correct name.",
    '{"effect": "Allow", "action": "kms:*", "resource": "*"}',
    "Use the exact element name.",
)
MISSING_EFFECT = rule(
    "KMS106", "error", "Missing Effect",
    "A statement has no `Effect`; the service rejects the document. The statement is left out of the analysis.",
    '{"Action": "kms:*", "Resource": "*"}',
    'Add "Effect": "Allow" or "Deny".',
)
BAD_EFFECT = rule(
    "KMS107", "error", "Effect is not Allow or Deny",
    "`Effect` must be exactly \"Allow\" or \"Deny\"; the service rejects anything else. A case variant "
    "(\"allow\") is read as meant; any other value leaves the statement out of the analysis.",
    '{"Effect": "allow", "Action": "kms:*", "Resource": "*"}',
    'Write "Allow" or "Deny".',
)
BOTH_ACTION = rule(
    "KMS108", "error", "Both Action and NotAction",
    "A statement may have `Action` or `NotAction`, not both; the service rejects the document. "
    "`Action` is used.",
    '{"Effect": "Allow", "Action": "kms:*", "NotAction": "kms:Delete*", "Resource": "*"}',
    "Keep one of them.",
)
NO_ACTION = rule(
    "KMS109", "error", "Neither Action nor NotAction",
    "A statement needs `Action` or `NotAction`; the service rejects the document. The statement matches "
    "no action.",
    '{"Effect": "Allow", "Resource": "*"}',
    "Add the Action element.",
)
MISSING_RESOURCE = rule(
    "KMS110", "error", "Missing Resource in an identity policy",
    "Statements of identity (RAM user, group, role) policies need `Resource`; the service rejects the "
    "document. The statement matches no resource. (In key and secret policies a missing Resource means "
    "the key or secret itself, i.e. every resource the policy is attached to.)",
    '{"Effect": "Allow", "Action": "kms:Decrypt"}',
    'Add "Resource".',
)
BOTH_RESOURCE = rule(
    "KMS111", "error", "Both Resource and NotResource",
    "A statement may have `Resource` or `NotResource`, not both; the service rejects the document. "
    "`Resource` is used.",
    '{"Effect": "Allow", "Action": "kms:*", "Resource": "*", "NotResource": "acs:kms:*:*:key/k1"}',
    "Keep one of them.",
)
WRONG_TYPE = rule(
    "KMS112", "error", "Element of the wrong type",
    "An element holds a value of the wrong JSON type (an object where strings are expected, a null, a "
    "statement that is not an object, ...); the service rejects the document. The value is ignored.",
    '{"Effect": "Allow", "Action": {"kms": "*"}, "Resource": "*"}',
    "Use a string or a list of strings.",
)
DUPLICATE_SID = rule(
    "KMS113", "warning", "Duplicate Sid",
    "Two statements carry the same `Sid`; findings and reports that name statements by Sid become ambiguous.",
    '[{"Sid": "Use", ...}, {"Sid": "Use", ...}]',
    "Give each statement its own Sid.",
)
TOO_LARGE = rule(
    "KMS114", "error", "Policy over the size limit",
    f"An identity policy may hold at most {IDENTITY_POLICY_LIMIT} characters and a key or secret policy at "
    f"most {RESOURCE_POLICY_LIMIT} bytes; the service rejects larger documents. kmssmt measures the "
    "document without the whitespace between tokens (formatting is not part of the policy).",
    "(a 7000-character identity policy)",
    "Split the policy.",
)
UNKNOWN_OPERATOR = rule(
    "KMS115", "error", "Unknown condition operator",
    "A condition operator the policy language does not define; the service rejects the document. "
    "kmssmt treats the clause as never satisfied.",
    '"Condition": {"StringEqual": {"kms:tag/Project": "Apollo"}}',
    "Use one of the documented operators.",
)
OPERATOR_CASE = rule(
    "KMS116", "warning", "Condition operator spelled in another case",
    "The operator differs from its documented spelling only in case or inner spacing. kmssmt reads it "
    "as the documented operator; write it exactly to be sure the service does too.",
    '"Condition": {"stringequals": {"kms:tag/Project": "Apollo"}}',
    "Use the documented spelling.",
)
BAD_CONDITION = rule(
    "KMS117", "error", "Malformed Condition",
    "`Condition` must be `{Operator: {Key: value or [values]}}` with string values; the service rejects "
    "other shapes. Malformed parts are ignored.",
    '"Condition": {"IpAddress": "192.168.0.0/16"}',
    "Write the condition as {Operator: {Key: [values]}}.",
)
EMPTY_LIST = rule(
    "KMS118", "warning", "Empty list",
    "An Action, Resource or condition value list is empty. An empty `Action` or `Resource` matches nothing, "
    "so the statement never applies; an empty `NotAction` or `NotResource` excludes nothing, so it matches "
    "every action or resource. An empty value list of a positive operator (`StringEquals`, `IpAddress`, ...) "
    "is never satisfied; one of a negated operator (`StringNotEquals`, `NotIpAddress`, ...) is always "
    "satisfied: true when the key is absent, and true when it is present because the value matches none of "
    "zero values.",
    '{"Effect": "Allow", "Action": [], "Resource": "*"}',
    "Fill the list or remove the statement.",
)
BAD_PRINCIPAL = rule(
    "KMS119", "error", "Malformed Principal",
    "`Principal` must be \"*\" or an object such as `{\"RAM\": [ARNs]}`; the service rejects other shapes. "
    "Strings found in it are used as principals.",
    '"Principal": ["acs:ram::123:root"]',
    'Write "Principal": {"RAM": [...]}.',
)
EMPTY_STATEMENTS = rule(
    "KMS120", "warning", "No statements",
    "The policy has no statements: it grants and denies nothing.",
    '{"Version": "1", "Statement": []}',
    "Add statements or delete the policy.",
)

CASE_VARIANT_CONDITION = rule(
    "KMS121", "warning", "Condition key or operator written twice in different case",
    "One Condition holds two JSON names that differ only in case or spacing: two operators (`StringEquals` "
    "and `stringequals`) or two keys of one operator (`kms:tag/Env` and `kms:tag/env`). They are distinct "
    "JSON names, so neither replaces the other: every one of their conditions must hold, and kmssmt keeps "
    "them all. As condition keys and operators are matched ignoring case, they constrain the same key, "
    "which is rarely what was meant (two different values for one key can never both hold).",
    '"StringEquals": {"kms:tag/Env": "prod", "kms:tag/env": "dev"}',
    "Merge the two into one key (or one operator) with the values meant.",
)
