"""Names and addresses (archive.mail.addresses): cleaning, checking, and headers that parse back as written."""

from __future__ import annotations

import email
import email.policy
import random
from email.message import EmailMessage

import pytest

from archive.errors import InvalidInput
from archive.mail.addresses import (
    ELLIPSIS,
    check_address,
    clean_name,
    header_address,
    header_text,
    limit_key,
    wire_address,
)
from archive.mail.delivery import ASCII_HEADERS


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Mallory\x0bBcc: x", "Mallory Bcc: x"),  # a vertical tab separates: a space
        ("Ana\u2028Núñez\u2029", "Ana Núñez"),
        ("Ana\tN\x85úñez", "Ana N úñez"),
        ("\u202eevil\u202c name", "evil name"),  # bidi overrides: dropped
        ("Ze\u200bro\u200d wid\ufeffth\u00ad", "Zero width"),
        ("Ana\x00\x07\x1b[31m", "Ana[31m"),
        ("  Ana   María  ", "Ana María"),
        ("Ana\u00a0María", "Ana\u00a0María"),  # a no-break space is an ordinary space to keep
        ("e\u0301", "é"),  # NFC
        ("👨\u200d👩\u200d👧", "👨👩👧"),  # the joiner is a format character
        ("\u200b\u200e", ""),
    ],
)
def test_names_lose_control_and_format_characters(raw: str, cleaned: str) -> None:
    assert clean_name(raw) == cleaned


def test_addresses_are_checked_by_email_validator_and_name_the_field() -> None:
    assert check_address(" Ana@Exämple.NET ", "Your email") == "ana@exämple.net"
    assert check_address("a@xn--bcher-kva.example", "to_email") == "a@bücher.example"
    assert wire_address("ana@exämple.net") == "ana@xn--exmple-cua.net"
    assert check_address("josé@exämple.net", "to_email") == "josé@exämple.net"  # SMTPUTF8 decides, later
    with pytest.raises(InvalidInput, match=r"^Your email: the part before the @ has letters \(é\)"):
        check_address("josé@exämple.net", "Your email", international=False)
    for bad in ("a\x00b@example.org", "a@example.org, b@example.org", "Ana <a@example.org>", "a@b", "@x.org", ""):
        with pytest.raises(InvalidInput, match=r"^reply_to: "):
            check_address(bad, "reply_to")


def test_one_mailbox_one_limit_key() -> None:
    same = ["name@example.org", "Name@Example.ORG", "name+news@example.org", "NAME+a+b@example.org"]
    assert {limit_key(address) for address in same} == {"name@example.org"}
    assert limit_key("ana@exämple.net") == "ana@xn--exmple-cua.net" == limit_key("ana+x@xn--exmple-cua.net")
    assert limit_key("other@example.org") != limit_key("name@example.org")


def names(count: int) -> list[str]:
    """Hand-picked awkward names, then random ones from an alphabet of specials, spaces and non-ASCII."""
    chosen = [
        'Ana "Nana" Núñez, Jr.',
        "Doe, John <john@evil.example>",
        "=?utf-8?q?Bcc=3A_evil?=",
        "x =?utf-8?b?Zm9v?= y",
        "O'Brien (the elder)",
        "\\",
        '"',
        "a" * 200,
        "a, b" * 50,
        "ü" * 200,
        "👍" * 200,
        "用户 " * 66,
        " ".join(["Ω"] * 100),
    ]
    alphabet = " ,;:<>@\"\\()[].=?_-'aZé\u03a9\u4e2d👍\u0301\u00a0\u3000"
    rng = random.Random(17)
    chosen += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 200))) for _ in range(count)]
    return [clean_name(name) for name in chosen]


def parsed(mail: EmailMessage) -> EmailMessage:
    message = email.message_from_bytes(mail.as_bytes().replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


@pytest.mark.parametrize("address", ["ana@example.org", "a" * 64 + "@" + "b" * 60 + ".example.org"])
def test_every_name_parses_back_from_the_header_as_written(address: str) -> None:
    shortened = 0
    for name in names(800):
        mail = EmailMessage(policy=ASCII_HEADERS)
        mail.set_raw("To", header_address(name, address, "To"))
        mail.set_raw("Subject", header_text(name or "-", "Subject"))
        mail.set_content("x")
        lines = mail.as_bytes().split(b"\r\n")
        assert max(len(line) for line in lines) <= 998
        back = parsed(mail)
        (recipient,) = back["To"].addresses
        assert recipient.addr_spec == address
        if recipient.display_name != name:  # only a name too long for one header line is shortened
            assert len(name.encode("utf-8")) > 400 and recipient.display_name.endswith(ELLIPSIS), name
            assert name.startswith(recipient.display_name[:-1])
            shortened += 1
        assert str(back["Subject"]) == (name or "-")
    assert shortened < 30
