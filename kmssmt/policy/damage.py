"""The rules for syntax and copy/paste damage (KMS001..KMS099): what the lenient lexer repairs."""

from __future__ import annotations

import re

from kmssmt.policy.findings import Rule, rule

# Not JSON whitespace, read as a space (KMS007).
ODD_SPACES = (
    "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u202f\u205f\u3000\ufeff"
)
# Control characters that make a file binary, not a damaged document.
BAD_CONTROL_RE = re.compile("[\\x00-\\x08\\x0e-\\x1a\\x1c-\\x1f]")

COMMENT = rule(
    "KMS001", "error", "Comment in policy",
    "RAM policy documents are strict JSON: `//`, `#` and `/* */` comments are rejected by the service. "
    "The document is read without them.",
    '"kms:Encrypt",   // encrypt data using the key',
    "Delete the comment.",
)
COMMENT_HIDES_POLICY = rule(
    "KMS002", "error", "Comment hides policy text",
    "A `//` or `#` comment runs to the end of the line; on a one-line policy it swallows the rest of the "
    "document. The document is recovered from what comes before the comment.",
    '{"Version": "1", // all keys "Statement": [...]}',
    "Remove the comment or put it on its own line (and then delete it: RAM rejects comments).",
)
TRAILING_COMMA = rule(
    "KMS003", "error", "Trailing or extra comma",
    "A comma before `]` or `}` (or two commas in a row) is not JSON; the service rejects the document. "
    "The extra comma is ignored.",
    '"Action": ["kms:AsymmetricEncrypt", "kms:AsymmetricDecrypt", ]',
    "Delete the comma.",
)
MISSING_COMMA = rule(
    "KMS004", "error", "Missing comma",
    "Two elements or members follow each other without a comma; the service rejects the document. "
    "They are read as if the comma were there.",
    '"Action": ["kms:Encrypt" "kms:Decrypt"]',
    "Insert the comma.",
)
FANCY_QUOTE = rule(
    "KMS005", "error", "Typographic or single quote",
    "Full-width or typographic quotes (“ ” ＂ 「 」) and single quotes do not delimit JSON strings; "
    "the service rejects the document. They are read as ASCII double quotes.",
    '"kms:tag/Project": [ 「アポロ」 ]',
    'Use ASCII double quotes (").',
)
FULLWIDTH_PUNCT = rule(
    "KMS006", "error", "Full-width punctuation",
    "Full-width commas, colons and brackets (， 、 ： ｛ ｝ ［ ］) are not JSON punctuation; the service "
    "rejects the document. They are read as their ASCII counterparts.",
    '"kms:List*" 、"kms:Describe*"',
    "Use ASCII punctuation.",
)
ODD_SPACE = rule(
    "KMS007", "error", "Non-breaking or unusual space",
    "Non-breaking, ideographic and zero-width spaces are not JSON whitespace; the service rejects the "
    "document. They are read as ordinary spaces (and then trimmed where names are expected).",
    '"Effect":\u00a0"Allow"',
    "Replace them with ordinary spaces.",
)
DUPLICATE_KEY = rule(
    "KMS008", "warning", "Duplicate key",
    "The same name appears twice in one object. JSON parsers, and the service, keep the last occurrence "
    "and silently drop the earlier one, so part of what is written has no effect. kmssmt keeps the last.",
    '{"Effect": "Deny", "Action": "kms:Decrypt", "Effect": "Allow"}',
    "Merge or delete the duplicate.",
)
RAW_LINE_BREAK = rule(
    "KMS009", "error", "Line break or control character inside a string",
    "A raw line break (typically from a PDF or web page wrapping a long value) or another control "
    "character inside a JSON string is not JSON; the service rejects the document. A wrapped value is "
    "joined back without the break and its indentation.",
    '"kms:\nGenerateDataKey"',
    "Join the value onto one line.",
)
UNTERMINATED_STRING = rule(
    "KMS010", "error", "Unterminated string",
    "A string has no closing quote before the end of the line; the service rejects the document. "
    "The string is closed at the end of the line.",
    '"Resource": "acs:kms:*:*:key/*,',
    "Add the closing quote.",
)
BAD_ESCAPE = rule(
    "KMS011", "error", "Invalid escape (markdown escape)",
    "A backslash before a character that JSON does not escape, such as `\\_` or `\\$` left by markdown, "
    "is not JSON; the service rejects the document. The character is read without the backslash.",
    '"acs:kms:\\${region}:\\${account}:key"',
    "Delete the backslash.",
)
HTML_OUTSIDE = rule(
    "KMS012", "error", "HTML tag in document",
    "An HTML tag such as `<br>` between JSON elements (copied from a rendered table) is not JSON; the "
    "service rejects the document. The tag is ignored.",
    '"kms:Encrypt",<br>"kms:Decrypt"',
    "Delete the tag.",
)
HTML_INSIDE = rule(
    "KMS013", "warning", "HTML tag inside a value",
    "An HTML tag such as `<br>` inside a string is part of the value for the service, which then matches "
    "nothing real. kmssmt reads the value without the tag; the policy as written does not.",
    '"kms:Encrypt<br>"',
    "Delete the tag.",
)
MASKED_ID = rule(
    "KMS014", "warning", "Masked identifier",
    "A value such as `112890462****` looks like an account or key id masked for publication. As a "
    "wildcard pattern it matches every id with that prefix, which is almost certainly not intended.",
    '"acs:kms:*:112890462****:key/*"',
    "Write the real id.",
)
TEMPLATE_IN_STRING = rule(
    "KMS015", "warning", "Template expression inside a value",
    "A Terraform interpolation or directive (`${var.x}`, `%{for}`) was left in a value: the service "
    "compares it literally, so it matches only itself.",
    '"acs:kms:${var.region}:${data.alicloud_account.this.id}:key/*"',
    "Render the template before analysing the policy.",
)
TEMPLATE_OUTSIDE = rule(
    "KMS016", "error", "Template code in document",
    "Terraform template code (`${jsonencode(...)}`, `%{ for ... }`) outside strings is not JSON; the "
    "service rejects the document. Directives are ignored and interpolations read as strings.",
    '"Resource": [ %{ for k in keys ~} "${k}", %{ endfor ~} ]',
    "Render the template before analysing the policy.",
)
PLACEHOLDER = rule(
    "KMS017", "warning", "Unresolved placeholder",
    "A documentation placeholder such as `${region}` or `${account}` was left in a value. The service "
    "compares it literally, so the value matches only the placeholder text itself, not a real resource.",
    '"Resource": "acs:kms:${region}:${account}:key/*"',
    "Replace the placeholder with the real region, account or id (or `*`).",
)
UNCLOSED = rule(
    "KMS018", "error", "Document ends before it is closed",
    "The document ends with brackets still open (it was truncated, or a comment swallowed the end); "
    "the service rejects it. The missing closers are added.",
    '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}',
    "Add the missing closing brackets.",
)
MISMATCHED = rule(
    "KMS019", "error", "Mismatched bracket",
    "A closing bracket does not match the open one (or nothing is open); the service rejects the "
    "document. Missing closers are inserted and stray ones ignored.",
    '"Action": ["kms:Encrypt"}',
    "Fix the bracket.",
)
TRAILING_CONTENT = rule(
    "KMS020", "error", "Content after the document",
    "Text follows the closing brace of the policy; the service rejects the document. It is ignored.",
    '{"Version": "1", "Statement": []} extra',
    "Delete the extra text.",
)
CODE_FENCE = rule(
    "KMS021", "error", "Markdown code fence",
    "A markdown code fence line (```) was copied with the policy; the service rejects it. It is ignored.",
    "```json",
    "Delete the fence line.",
)
SPLIT_BLOCKS = rule(
    "KMS022", "error", "Document split across code blocks",
    "The policy continues in a second code block (as in documents converted from PDF, where a page "
    "break splits the example). The closers that ended the first block are dropped and the blocks "
    "joined; check the recovered policy.",
    "```\n{ ... \"Action\": [\"kms:Encrypt\"] } ] }\n```\n```\n], \"Resource\": [\"*\"] } ] \n```",
    "Copy the policy from one source as a whole.",
)
UNQUOTED = rule(
    "KMS023", "error", "Unquoted word",
    "A bare word where JSON needs a quoted string; the service rejects the document. It is read as a string.",
    '"Effect": Allow',
    "Quote the word.",
)
STRAY_CHARACTER = rule(
    "KMS024", "error", "Unexpected character or token",
    "A character, or a token in a place, that has no place in JSON; the service rejects the document. "
    "It is ignored.",
    '"Effect": "Allow";',
    "Delete the character.",
)
BOM = rule(
    "KMS025", "warning", "Byte order mark",
    "The file starts with a byte order mark. Most tools accept it; it is ignored.",
    "\ufeff{...}",
    "Save the file as UTF-8 without BOM.",
)
SPACED_NAME = rule(
    "KMS026", "error", "Stray spaces in an element or operator name",
    "An element or condition operator name carries leading or trailing spaces (`\"Resource \"`); the "
    "service does not recognise it. It is read as the trimmed name.",
    '"Resource ": ["*"]',
    "Remove the spaces.",
)
SPACED_VALUE = rule(
    "KMS027", "error", "Whitespace inside an action, resource, principal or condition key",
    "Actions, ARNs and condition keys never contain whitespace; spaces or breaks inside them "
    "(`\"kms:List *\"`, `\"kms : tag / Project\"`) come from copying a formatted page. The service "
    "does not accept the value as meant. It is read with the whitespace removed.",
    '"Action": "kms:List *"',
    "Remove the whitespace.",
)
SPACED_CONDITION_VALUE = rule(
    "KMS028", "warning", "Leading or trailing spaces in a condition value",
    "A condition value with leading or trailing spaces (`\"Apollo \"`) is compared as written: it is a "
    "different value from the one without spaces. For a typed operator (`IpAddress`, `Numeric*`, `Date*`, "
    "`Bool`) the spaced value is not an address, number, date or boolean, so no request value matches it: it "
    "adds nothing to a positive operator's values, and a negated operator whose values are all such holds for "
    "every request. The value is kept as written (and KMS213 reports it).",
    '"kms:tag/Project": ["Apollo "]',
    "Remove the spaces if they are not meant.",
)
NON_STRING = rule(
    "KMS029", "warning", "Number or boolean where a string is expected",
    "A JSON number or true/false where the policy language expects a string; the service accepts it as "
    "its text. It is read as its JSON text.",
    '"Bool": {"acs:SecureTransport": true}',
    'Quote the value: "true".',
)
MISSING_COLON = rule(
    "KMS030", "error", "Missing colon",
    "A member name is not followed by `:`; the service rejects the document. The colon is inserted.",
    '"Effect" "Allow"',
    "Insert the colon.",
)
MISSING_VALUE = rule(
    "KMS031", "error", "Missing value",
    "A member has no value (`\"Action\": ,`); the service rejects the document. It is read as null "
    "(and then reported as the wrong type).",
    '"Action": , "Resource": "*"',
    "Write the value.",
)

_DAMAGE_RULES: tuple[Rule, ...] = (
    COMMENT, COMMENT_HIDES_POLICY, TRAILING_COMMA, MISSING_COMMA, FANCY_QUOTE, FULLWIDTH_PUNCT,
    ODD_SPACE, DUPLICATE_KEY, RAW_LINE_BREAK, UNTERMINATED_STRING, BAD_ESCAPE, HTML_OUTSIDE,
    HTML_INSIDE, MASKED_ID, TEMPLATE_IN_STRING, TEMPLATE_OUTSIDE, PLACEHOLDER, UNCLOSED, MISMATCHED,
    TRAILING_CONTENT, CODE_FENCE, SPLIT_BLOCKS, UNQUOTED, STRAY_CHARACTER, BOM, SPACED_NAME,
    SPACED_VALUE, SPACED_CONDITION_VALUE, NON_STRING, MISSING_COLON, MISSING_VALUE,
)
