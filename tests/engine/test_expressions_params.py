"""LazyParams and seed 001's real params block, including its signed client assertion."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.engine.expressions import (
    MASK,
    CompiledTemplate,
    ExpressionError,
    LazyParams,
    compile_template,
)

SEED_PARAMS = json.loads(
    (Path(__file__).parent / "fixtures" / "seed001_params.json").read_text(encoding="utf-8"))
FIXED = datetime(2026, 1, 22, 12, 0, tzinfo=UTC)
AUD = "https://jwt.idfc.example/platform/oauth/oauth2/token"


class Secrets(Mapping[str, Any]):
    """Like the services' SECRET: decrypts on access, cannot be listed, counts reads."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self.reads = 0

    def __getitem__(self, key: str) -> Any:
        self.reads += 1
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("SECRET was enumerated")

    def __len__(self) -> int:
        raise AssertionError("SECRET was enumerated")


class Explosive(Secrets):
    def __getitem__(self, key: str) -> Any:
        raise AssertionError("SECRET was read")


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def secret_values(jwks: str) -> dict[str, Any]:
    return {
        "idfc": {"auth_host": "https://auth.idfc.example", "client_id": "flowdesk-client",
                 "jwt_host": "https://jwt.idfc.example", "jwks": jwks,
                 "encryption_key": "0123456789abcdef0123456789abcdef"},
        "storage": {"vendor": "s3"},
    }


def context_for(params: CompiledTemplate, secret: Mapping[str, Any]) -> dict[str, Any]:
    ctx: dict[str, Any] = {"SECRET": secret, "RUNNER_ID": "runner-7", "data": {}, "store": {}}
    ctx["params"] = LazyParams(params, lambda: ctx)
    return ctx


def pem_of(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.mark.parametrize("key_form", ["pem", "jwk"])
def test_seed001_params_render_with_a_verifiable_client_assertion(
        key_form: str, rsa_key: rsa.RSAPrivateKey) -> None:
    jwks = pem_of(rsa_key) if key_form == "pem" else jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key)
    params = compile_template(SEED_PARAMS, path="params")
    ctx = context_for(params, Secrets(secret_values(jwks)))

    out = params.render(ctx, clock=lambda: FIXED)

    login = out["auth_token_config"]["bearer"]["login"]
    assert login["url"] == "https://auth.idfc.example/authorization/oauth2/token"
    assert login["data"]["client_id"] == "flowdesk-client"
    assert out["auth_token_config"]["cache"] == {"key": "runner-7",
                                                 "ttl": {"access_token": "expires_in"}}
    assert out["encryption_config"]["key"] == "0123456789abcdef0123456789abcdef"
    assert out["storage"] == {"vendor": "s3", "creds_key": "storage_s3_creds"}
    assert out["states"] == SEED_PARAMS["states"]
    claims = jwt.decode(login["data"]["client_assertion"], rsa_key.public_key(),
                        algorithms=["RS256"], audience=AUD, options={"verify_exp": False})
    assert claims["iss"] == claims["sub"] == "flowdesk-client"
    assert uuid.UUID(claims["jti"]).version == 4
    assert claims["exp"] == int((FIXED + timedelta(minutes=30)).timestamp())
    assert jwt.get_unverified_header(login["data"]["client_assertion"])["alg"] == "RS256"


def test_seed001_assertion_with_the_real_clock_is_valid_now(rsa_key: rsa.RSAPrivateKey) -> None:
    params = compile_template(SEED_PARAMS, path="params")
    ctx = context_for(params, Secrets(secret_values(pem_of(rsa_key))))
    token = params.render(ctx)["auth_token_config"]["bearer"]["login"]["data"][
        "client_assertion"]
    claims = jwt.decode(token, rsa_key.public_key(), algorithms=["RS256"], audience=AUD)
    assert abs(claims["exp"] - (time.time() + 1800)) < 10


def test_reading_a_params_block_renders_it_fresh_each_time(rsa_key: rsa.RSAPrivateKey) -> None:
    params = compile_template(SEED_PARAMS, path="params")
    ctx = context_for(params, Secrets(secret_values(pem_of(rsa_key))))
    step_input = compile_template({"auth": "${params.auth_token_config}",
                                   "host": "${params.auth_token_config.bearer.login.url}"})

    first, second = step_input.render(ctx), step_input.render(ctx)

    assert isinstance(first["auth"], dict)
    assert first["host"] == "https://auth.idfc.example/authorization/oauth2/token"
    jtis = [jwt.decode(r["auth"]["bearer"]["login"]["data"]["client_assertion"],
                       options={"verify_signature": False})["jti"] for r in (first, second)]
    assert jtis[0] != jtis[1]


def test_masked_params_never_read_secret() -> None:
    params = compile_template(SEED_PARAMS, path="params")
    ctx = context_for(params, Explosive({}))

    out = params.render(ctx, masked=True)

    login = out["auth_token_config"]["bearer"]["login"]
    assert login["url"] == f"{MASK}/authorization/oauth2/token"
    assert login["data"]["client_assertion"] == MASK
    assert login["data"]["client_id"] == MASK
    assert out["auth_token_config"]["cache"]["key"] == "runner-7"
    assert out["storage"]["vendor"] == MASK


def test_masking_through_params_covers_derived_values() -> None:
    params = compile_template({"vendor": "${SECRET.storage.vendor}", "region": "ap-south-1",
                               "block": {"token": "${SECRET.t}", "id": "${RUNNER_ID}"}})
    ctx = context_for(params, Explosive({}))
    shown = compile_template({
        "vendor": "${params.vendor}",
        "upper": "${upper(params.vendor)}",
        "text": "v=${params.vendor} r=${params.region}",
        "block": "${params.block}",
        "region": "${upper(params.region)}",
    }).render(ctx, masked=True)
    assert shown == {"vendor": MASK, "upper": MASK, "text": f"v={MASK} r=ap-south-1",
                     "block": {"token": MASK, "id": "runner-7"}, "region": "AP-SOUTH-1"}


def test_lazy_params_render_only_what_is_read() -> None:
    params = compile_template({"cheap": "${RUNNER_ID}", "costly": "${SECRET.x.y}",
                               "nested": {"a": "${SECRET.x.y}", "b": "${RUNNER_ID}-b"},
                               "list": ["${RUNNER_ID}", "${SECRET.x.y}"]})
    secret = Secrets({"x": {"y": "s"}})
    ctx = context_for(params, secret)
    lazy = ctx["params"]
    assert lazy["cheap"] == "runner-7"
    assert compile_template("${params.nested.b}").render(ctx) == "runner-7-b"
    assert compile_template("${params.list.0}").render(ctx) == "runner-7"
    assert "costly" in lazy
    assert sorted(lazy) == ["cheap", "costly", "list", "nested"]
    assert secret.reads == 0
    assert compile_template("${params.missing}").render(ctx) is None
    with pytest.raises(KeyError):
        lazy["missing"]


def test_params_may_refer_to_other_params() -> None:
    params = compile_template({"host": "https://h", "url": "${params.host}/path",
                               "full": "${params.url}?id=${RUNNER_ID}"})
    ctx = context_for(params, Secrets({}))
    assert params.render(ctx)["full"] == "https://h/path?id=runner-7"
    assert ctx["params"]["full"] == "https://h/path?id=runner-7"


def test_cyclic_params_fail_with_expression_error() -> None:
    params = compile_template({"a": "${params.b}", "b": "${params.a}"})
    ctx = context_for(params, Secrets({}))
    with pytest.raises(ExpressionError, match="cycle"):
        params.render(ctx)


def test_lazy_params_accept_raw_json_and_reject_non_objects() -> None:
    ctx: dict[str, Any] = {"RUNNER_ID": "r"}
    ctx["params"] = LazyParams({"a": "${RUNNER_ID}"}, lambda: ctx)
    assert ctx["params"]["a"] == "r"
    with pytest.raises(ExpressionError, match="JSON object"):
        LazyParams(["not", "a", "dict"], lambda: ctx)
