"""Email addresses and display names: checked where people type them, and written into headers that parse back.

Names. A display name loses the characters that have no business in a header: Unicode control, format,
surrogate, line- and paragraph-separator characters (categories Cc, Cf, Cs, Zl, Zp: NUL, tabs, bidi overrides,
zero-width joiners, U+2028 …). Those that separate words (tab, vertical tab, U+2028, U+2029, next line) become a
space; the rest are dropped. A run of two or more white-space characters (spaces, no-break or ideographic spaces)
becomes one ordinary space, and the name is NFC-normalised and trimmed. A single space of any kind, combining
marks, emoji and every script stay. (Mail readers collapse such runs themselves: this way the name in the header
is the name stored, shown and exported.)

Addresses are checked by email-validator (syntax only: no DNS here). Domains may be internationalised: they go
on the wire as their ASCII (punycode) form, which every server carries. A local part (before the @) with
non-ASCII letters needs a server that offers SMTPUTF8; the letter form refuses such addresses (a supporter learns
at once and can give another), while delivery still sends any that reach the outbox when the server offers
SMTPUTF8, and fails them with that reason when it does not.

Headers are written here rather than by the email package's folder, which in Python 3.11 drops the quotes of a
long name (its commas then read as more recipients) and adds spaces when it splits a long encoded name.
"""

from __future__ import annotations

import base64
import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from archive.errors import InvalidInput
from archive.locales import Text

REMOVED = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
SPACES = re.compile(r"\s{2,}")
PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
WORD_BYTES = 45  # UTF-8 bytes per encoded word: "=?utf-8?b?" + 60 base64 characters + "?=" is within 75
LINE_LIMIT = 998  # RFC 5322's hard limit on a header line, without its CRLF
ELLIPSIS = "…"


def clean_name(value: str) -> str:
    """The display name as it may travel in a header (see the module's docstring)."""
    kept = []
    for character in unicodedata.normalize("NFC", value or ""):
        if unicodedata.category(character) in REMOVED:
            if character.isspace():
                kept.append(" ")
            continue
        kept.append(character)
    return SPACES.sub(" ", "".join(kept)).strip()


def check_address(value: str, field: str, *, international: bool = True) -> str:
    """The address lower-cased, its domain in Unicode (IDNA-normalised); InvalidInput naming `field` when it is
    not one address. `international=False` also refuses a non-ASCII local part (which needs SMTPUTF8)."""
    try:
        checked = validate_email((value or "").strip(), check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as error:
        reason = str(error).rstrip(".")
        raise InvalidInput(
            Text(
                "%(field)s: that does not look like one email address (like name@example.org): %(reason)s",
                field=field,
                reason=reason[:1].lower() + reason[1:],  # email-validator's words, in English
            )
        ) from None
    if "=?" in checked.local_part:  # valid, but some mail programs (Python's among them) decode it as a word
        raise InvalidInput(
            Text("%(field)s: mail programs read an address with =? before the @ differently; give another", field=field)
        )
    if checked.ascii_email is None and not international:
        letters = "".join(dict.fromkeys(c for c in checked.local_part if not c.isascii()))
        raise InvalidInput(
            Text(
                "%(field)s: the part before the @ has letters (%(letters)s) that many mail servers cannot carry;"
                " please give an address written with plain letters (a-z, 0-9) before the @",
                field=field,
                letters=letters,
            )
        )
    return checked.normalized.lower()


def wire_address(address: str) -> str:
    """The form that goes on the wire: the domain in ASCII (punycode); the local part as it is."""
    checked = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    return f"{checked.local_part}@{checked.ascii_domain}"


def needs_smtputf8(address: str) -> bool:
    return not address.isascii()


def limit_key(address: str) -> str:
    """One key per mailbox, for limits and de-duplication: case folded, a +tag dropped, the domain in ASCII
    (Name+News@Example.org and name@example.org count as one)."""
    local, _, domain = wire_address(address).rpartition("@")
    return f"{local.split('+', 1)[0].casefold()}@{domain.casefold()}"


# --- headers ---------------------------------------------------------------------------------------------------


def header_address(name: str, address: str, header: str) -> str:
    """`"Name" <address>`, or the name in encoded words; the line (with "Header: ") fits in LINE_LIMIT, so a very
    long non-ASCII name is shortened with an ellipsis. `name` must be cleaned already (clean_name)."""
    if not name:
        return address
    room = LINE_LIMIT - len(f"{header}: ") - len(f" <{address}>")
    if PRINTABLE_ASCII.fullmatch(name) and "=?" not in name:
        quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if len(quoted) <= room:
            return f"{quoted} <{address}>"
    return f"{_phrase_words(name, room)} <{address}>"


def _phrase_words(name: str, room: int) -> str:
    """The name as RFC 2047 encoded words written side by side. Side by side, not apart: Python's parser keeps
    the space between two encoded words of a name, which RFC 2047 says to drop, so no space is the one form
    that every reader decodes to the same name."""
    shortened = name
    while True:
        words = "".join(_encoded_words(shortened))
        if len(words) <= room:
            return words
        shortened = shortened[: max(len(shortened) - 8, 1)].rstrip() + ELLIPSIS


def header_text(text: str, header: str) -> str:
    """An unstructured header's value (Subject): as it is when printable ASCII, else encoded words, folded one to
    a line (a reader drops the fold between two encoded words)."""
    if PRINTABLE_ASCII.fullmatch(text) and "=?" not in text and len(text) + len(header) + 2 <= LINE_LIMIT:
        return text
    return "\r\n ".join(_encoded_words(text))


def _encoded_words(text: str) -> list[str]:
    """Base64 UTF-8 encoded words of whole characters, each within RFC 2047's 75 characters."""
    chunks: list[bytes] = []
    chunk = b""
    for character in text:
        data = character.encode("utf-8")
        if chunk and len(chunk) + len(data) > WORD_BYTES:
            chunks.append(chunk)
            chunk = b""
        chunk += data
    if chunk:
        chunks.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(piece).decode('ascii')}?=" for piece in chunks]
