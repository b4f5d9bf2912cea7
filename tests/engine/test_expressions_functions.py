"""Each function of the expression language, with an injected clock where time matters."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.engine.expressions import ExpressionError, compile_expression

FIXED = datetime(2026, 1, 22, 17, 34, 10, tzinfo=UTC)
HMAC_KEY = "an-hmac-secret-long-enough-for-sha-256-xx"


def ev(src: str, ctx: dict[str, Any] | None = None, clock: Any = None) -> Any:
    return compile_expression(src).evaluate(ctx or {}, clock=clock or (lambda: FIXED))


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_uuid4_is_a_fresh_uuid_string() -> None:
    first, second = ev("uuid4()"), ev("uuid4()")
    assert uuid.UUID(first).version == 4
    assert first != second


def test_now_and_today_come_from_the_injected_clock() -> None:
    assert ev("now()") == FIXED
    assert ev("today()") == date(2026, 1, 22)
    naive = ev("now()", clock=lambda: datetime(2026, 1, 1, 8, 0))
    assert naive == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


def test_now_without_a_clock_is_current_aware_utc() -> None:
    value = compile_expression("now()").evaluate({})
    assert value.tzinfo is not None
    assert abs((value - datetime.now(UTC)).total_seconds()) < 5


def test_timedelta_adds_units_to_a_date() -> None:
    assert ev("timedelta(now(), {'minutes': 30})") == datetime(2026, 1, 22, 18, 4, 10,
                                                                tzinfo=UTC)
    assert ev("timedelta('2026-01-01', {'days': -1, 'hours': 2})") == datetime(
        2025, 12, 31, 2, 0, tzinfo=UTC)
    with pytest.raises(ExpressionError, match="unknown unit 'years'"):
        ev("timedelta(now(), {'years': 1})")
    with pytest.raises(ExpressionError, match="needs a dict"):
        ev("timedelta(now(), 30)")


def test_strftime_formats_dates_and_date_strings() -> None:
    assert ev("strftime(now(), '%Y/%m/%d %H:%M:%S')") == "2026/01/22 17:34:10"
    assert ev("strftime(today(), '%d-%m-%Y')") == "22-01-2026"
    assert ev("strftime('2026-03-04T05:06:07Z', '%H%M')") == "0506"


def test_date_to_epoch_treats_naive_text_as_utc() -> None:
    assert ev("date_to_epoch('2026/01/22 17:34:10')") == int(FIXED.timestamp())
    assert ev("date_to_epoch(now())") == int(FIXED.timestamp())
    assert ev("date_to_epoch('2026-01-22T23:04:10+05:30')") == int(FIXED.timestamp())
    with pytest.raises(ExpressionError, match="unrecognised date"):
        ev("date_to_epoch('22 January')")


def test_parse_date_with_and_without_format() -> None:
    assert ev("parse_date('2026-01-22 17:34:10')") == FIXED
    assert ev("parse_date('22/01/2026', '%d/%m/%Y')") == datetime(2026, 1, 22, tzinfo=UTC)
    with pytest.raises(ExpressionError, match="does not match the format"):
        ev("parse_date('2026-01-22', '%d/%m/%Y')")


def test_conversions() -> None:
    assert ev("str(12) + str(None) + str(True)") == "12true"
    assert ev("str({'a': [1]})") == '{"a":[1]}'
    assert ev("int('42') + int(3.9) + int('ff', 16)") == 42 + 3 + 255
    assert ev("float('2.5') * 2") == 5.0
    assert ev("bool('') or bool([1])") is True
    with pytest.raises(ExpressionError, match=r"int\(\) failed"):
        ev("int('forty')")


def test_len_round_min_max() -> None:
    ctx = {"data": {"xs": [3, 1, 2]}}
    assert ev("len(data.xs) + len('abcd') + len({'a': 1})", ctx) == 8
    assert ev("round(2.567, 2)") == 2.57
    assert ev("round(2.5)") == 2
    assert ev("min(data.xs)", ctx) == 1
    assert ev("max(4, 9, 2)") == 9
    with pytest.raises(ExpressionError):
        ev("max([])")


def test_text_functions() -> None:
    assert ev("lower('AbC') + upper('d')") == "abcD"
    assert ev("strip('  x  ') + strip('--y--', '-')") == "xy"
    assert ev("split('a,b,,c', ',')") == ["a", "b", "", "c"]
    assert ev("split('a b  c')") == ["a", "b", "c"]
    assert ev("join(['a', 1, None, True], '-')") == "a-1--true"
    assert ev("join(split('x y', ' '))") == "xy"
    with pytest.raises(ExpressionError, match="expected text"):
        ev("lower(5)")
    with pytest.raises(ExpressionError, match="expected a list"):
        ev("join('abc', ',')")


def test_jmes_searches_plain_data() -> None:
    ctx = {"data": {"people": [{"name": "a", "age": 17}, {"name": "b", "age": 30}]}}
    assert ev("jmes('people[?age > `18`].name', data)", ctx) == ["b"]
    assert ev("jmes('length(people)', data)", ctx) == 2
    with pytest.raises(ExpressionError, match="bad JMESPath"):
        ev("jmes(data.expr, data)", {"data": {"expr": "people[?"}})


def test_jwt_encode_hs256_round_trip() -> None:
    token = ev("jwt_encode({'headers': {'alg': 'HS256'}, 'payload': {'sub': 'me'}, "
               "'secret': SECRET.k})", {"SECRET": {"k": HMAC_KEY}})
    assert jwt.decode(token, HMAC_KEY, algorithms=["HS256"]) == {"sub": "me"}


@pytest.mark.parametrize("form", ["pem", "jwk", "jwks", "jwk_dict"])
def test_jwt_encode_rs256_with_pem_or_jwk(form: str, rsa_key: rsa.RSAPrivateKey) -> None:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key))
    secret: Any = {
        "pem": jwt_pem(rsa_key),
        "jwk": json.dumps(jwk),
        "jwks": json.dumps({"keys": [{**jwk, "kid": "other"}, {**jwk, "kid": "k1"}]}),
        "jwk_dict": jwk,
    }[form]
    token = ev("jwt_encode({'headers': {'alg': 'RS256', 'typ': 'JWT', 'kid': 'k1'}, "
               "'payload': {'iss': 'x', 'exp': date_to_epoch(timedelta(now(), {'minutes': 5}))},"
               " 'secret': SECRET.key})", {"SECRET": {"key": secret}}, clock=lambda: datetime.now(UTC))
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "JWT", "kid": "k1"}
    assert jwt.decode(token, rsa_key.public_key(), algorithms=["RS256"])["iss"] == "x"


def jwt_pem(key: rsa.RSAPrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize(("spec", "fragment"), [
    ("{'headers': {'alg': 'none'}, 'payload': {}, 'secret': 'x'}", "unsupported algorithm"),
    ("{'headers': {'alg': 'RS256'}, 'payload': {}, 'secret': SECRET.k}", "not a usable RS256"),
    ("{'headers': {}, 'payload': {}, 'secret': ''}", "missing or empty"),
    ("{'headers': {}, 'payload': 'x', 'secret': 'k'}", "must be dicts"),
    ("'not a dict'", "jwt_encode needs"),
])
def test_jwt_encode_errors_are_clear_and_hide_the_key(spec: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        ev(f"jwt_encode({spec})", {"SECRET": {"k": "topsecret-not-a-pem"}})
    assert fragment in str(info.value)
    assert "topsecret" not in str(info.value)


def test_jwt_encode_hides_broken_jwk_material() -> None:
    with pytest.raises(ExpressionError) as info:
        ev("jwt_encode({'headers': {'alg': 'RS256'}, 'payload': {}, 'secret': SECRET.k})",
           {"SECRET": {"k": '{"d": "topsecret-exponent"}'}})
    assert "topsecret" not in str(info.value)
