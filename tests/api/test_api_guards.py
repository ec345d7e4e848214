"""What the service refuses, and how: tokens, sizes, fields, content types, origins; never a 500 for bad input;
access lines without secrets or personal data."""

from __future__ import annotations

import datetime as dt
import json
import math
import os

import pytest
from api_support import AUTH, OTHER_TOKEN, TOKEN
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from icpkit.api import Limits, Tokens, create_app, is_loopback
from icpkit.api.limits import RequestError, parse_score
from icpkit.api.models import request_models
from icpkit.cli import main
from icpkit.errors import InputError

# ------------------------------------------------------------------------------------------------------ auth


def test_everything_but_health_and_the_page_needs_a_token(client) -> None:
    for path in ("/healthz", "/", "/ui/app.js", "/ui/app.css", "/openapi.json"):
        assert client.get(path).status_code == 200, path
    r = client.get("/v1/icp")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == 'Bearer realm="icpkit"'
    assert r.json()["field"] == "authorization"
    r = client.post("/v1/score", json={"record": {}})
    assert r.status_code == 401
    bad = client.post("/v1/score", json={"record": {}}, headers={"Authorization": "Bearer not-the-token-at-all"})
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"]
    assert client.get("/v1/icp", headers={"Authorization": TOKEN}).status_code == 401  # no scheme
    assert client.get("/v1/icp", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200
    assert client.get("/no-such-page").status_code == 401  # closed by default, even what does not exist


def test_tokens_file_is_reread_when_it_changes(make_client, tmp_path) -> None:
    f = tmp_path / "tokens"
    f.write_text(f"# service tokens\n{TOKEN}\n\n")
    client = make_client(tokens=Tokens(file=f, recheck=0))
    old, new = AUTH, {"Authorization": f"Bearer {OTHER_TOKEN}"}
    assert client.get("/v1/icp", headers=old).status_code == 200
    assert client.get("/v1/icp", headers=new).status_code == 401
    f.write_text(f"{TOKEN}\n{OTHER_TOKEN}\n")  # rotation: both valid for a while
    assert client.get("/v1/icp", headers=old).status_code == 200
    assert client.get("/v1/icp", headers=new).status_code == 200
    tmp = tmp_path / "tokens.new"
    tmp.write_text(f"{OTHER_TOKEN}\n")
    os.replace(tmp, f)  # atomic rename: same size and maybe the same mtime tick, another inode
    assert client.get("/v1/icp", headers=old).status_code == 401
    assert client.get("/v1/icp", headers=new).status_code == 200
    f.unlink()  # a missing file closes the service instead of opening it
    assert client.get("/v1/icp", headers=new).status_code == 401


def test_the_tokens_file_is_looked_at_once_per_recheck_interval(tmp_path, monkeypatch) -> None:
    from icpkit.api import auth

    clock = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: clock[0])
    f = tmp_path / "tokens"
    f.write_text(f"{TOKEN}\n")
    tokens = Tokens(file=f, recheck=1.0)
    header = f"Bearer {OTHER_TOKEN}".encode()
    assert not tokens.check(header)
    f.write_text(f"{OTHER_TOKEN}\n")
    clock[0] += 0.5
    assert not tokens.check(header)  # within the interval: the file is not looked at
    clock[0] += 0.6
    assert tokens.check(header) and not tokens.check(f"Bearer {TOKEN}".encode())


def test_env_and_file_tokens_combine_and_short_ones_are_refused(tmp_path) -> None:
    f = tmp_path / "tokens"
    f.write_text(OTHER_TOKEN + "\n")
    tokens = Tokens(env=f" {TOKEN} ,", file=f)
    assert len(tokens) == 2
    assert tokens.check(f"Bearer {TOKEN}".encode()) and tokens.check(f"Bearer {OTHER_TOKEN}".encode())
    assert not tokens.check(None) and not tokens.check(b"Bearer ") and not tokens.check(b"Basic abc")
    with pytest.raises(InputError, match="at least 16 characters"):
        Tokens(env="short")
    with pytest.raises(InputError, match="does not exist"):
        Tokens(file=tmp_path / "missing")


def test_no_tokens_means_no_service_unless_explicitly_insecure(spec_path) -> None:
    with pytest.raises(InputError, match="no API tokens"):
        create_app(spec_path)
    assert create_app(spec_path, insecure_no_auth=True, poll_seconds=0).tokens is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("10.0.0.5", False), ("example.com", False)],
)  # fmt: skip
def test_loopback_addresses(host, loopback) -> None:
    assert is_loopback(host) is loopback


def test_cli_refuses_insecure_on_a_reachable_address_and_a_start_without_tokens(spec_path, monkeypatch, capsys):
    monkeypatch.delenv("ICPKIT_API_TOKENS", raising=False)
    assert main(["serve", "--spec", str(spec_path), "--host", "0.0.0.0", "--insecure-no-auth"]) == 2
    assert "loopback" in capsys.readouterr().err
    assert main(["serve", "--spec", str(spec_path)]) == 2
    assert "no API tokens" in capsys.readouterr().err
    assert main(["serve", "--port", "1"]) == 2  # neither --spec nor --store
    monkeypatch.setenv("ICPKIT_API_TOKENS", "short")
    assert main(["serve", "--spec", str(spec_path)]) == 2


# ---------------------------------------------------------------------------------------------------- limits


def test_body_size_limit_is_a_413(make_client) -> None:
    client = make_client(limits=Limits(max_body_bytes=2_000))
    big = {"record": {f"f{i}": "x" * 50 for i in range(60)}}
    r = client.post("/v1/score", json=big, headers=AUTH)
    assert r.status_code == 413 and r.json()["field"] == "body"

    def chunks():  # no Content-Length: counted while reading
        yield b'{"record": {"a": "'
        for _ in range(50):
            yield b"y" * 100
        yield b'"}}'

    r = client.post("/v1/score", content=chunks(), headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 413


def test_batch_size_limit_is_a_422_naming_records(make_client) -> None:
    client = make_client(limits=Limits(max_batch=3))
    r = client.post("/v1/score/batch", json={"records": [{}] * 4}, headers=AUTH)
    assert r.status_code == 422
    assert r.json()["field"] == "records" and "at most 3" in r.json()["detail"]
    assert client.post("/v1/score/batch", json={"records": [{}] * 3}, headers=AUTH).status_code == 200


SECRET = "jane.doe@secret-example.com"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"record": {"industry": SECRET * 100}}, "record.industry"),
        ({"record": {f"f{i}": 1 for i in range(11)}}, "record"),
        ({"record": {"x" * 31: 1}}, "record"),
        ({"record": {"": 1}}, "record"),
        ({"record": {"tech_stack": [SECRET] * 6}}, "record.tech_stack"),
        ({"record": {"tech_stack": [[SECRET]]}}, "record.tech_stack"),
        ({"record": {"owner": {"email": SECRET}}}, "record.owner"),
        ({"record": [SECRET]}, "record"),
        ({"records": []}, "records"),
        ({}, "record"),
        ({"record": {}, "enrich": "yes"}, "enrich"),
        ([SECRET], "body"),
    ],
)
def test_bad_fields_are_a_422_naming_the_field_without_echoing_values(make_client, body, field) -> None:
    client = make_client(limits=Limits(max_fields=10, max_key=30, max_string=200, max_list=5))
    r = client.post("/v1/score", json=body, headers=AUTH)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert r.json()["detail"].startswith(field) or field in ("body", "records", "enrich")
    assert SECRET not in r.text


def test_batch_names_the_record_at_fault(client) -> None:
    r = client.post("/v1/score/batch", json={"records": [{}, {"a": {"b": 1}}]}, headers=AUTH)
    assert r.status_code == 422 and r.json()["field"] == "records[1].a"


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"not json", b'{"record": {"x": NaN}}', b'{"record": {"x": Infinity}}', b"\xff\xfe", b"[" * 5000],
)
def test_malformed_json_is_a_422(client, raw) -> None:
    r = client.post("/v1/score", content=raw, headers={**AUTH, "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body"


def test_what_json_allows_is_accepted(client) -> None:
    raw = b'{"record": {"employees": 123456789012345678901234567890, "industry": "Software \\u00e9"}}'
    r = client.post("/v1/score", content=raw, headers={**AUTH, "content-type": "application/json; charset=utf-8"})
    assert r.status_code == 200
    assert r.json()["explanation"]["matched"] == []  # 1.2e29 employees is out of band, "Software é" is not Software


def test_only_json_bodies_are_scored(client) -> None:
    for ctype in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {**AUTH} if ctype is None else {**AUTH, "content-type": ctype}
        r = client.post("/v1/score", content=b'{"record": {}}', headers=headers)
        assert r.status_code == 415, ctype
    suffixed = {**AUTH, "content-type": "application/merge+json"}
    assert client.post("/v1/score", content=b'{"record": {}}', headers=suffixed).status_code == 200


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["record", "enrich", "records", "x"]), json_values, max_size=3))
def test_hand_validation_agrees_with_the_documented_models(body) -> None:
    limits = Limits(max_fields=3, max_key=8, max_string=12, max_list=3)
    score_request, _ = request_models(limits)
    raw = json.dumps(body).encode()
    try:
        parse_score(raw, limits)
        hand = True
    except RequestError:
        hand = False
    try:
        score_request.model_validate_json(raw)
        model = True
    except ValueError:
        model = False
    assert hand is model, body


@settings(max_examples=200, deadline=None)
@given(record=st.dictionaries(st.text(max_size=6), json_values, max_size=5), slack=st.integers(-40, 40))
def test_short_cuts_of_the_hand_validation_change_no_verdict(record, slack) -> None:
    """A body no longer than the text limit skips text lengths, an orjson-read one the finite check: neither may
    let through or refuse anything the full walk would not."""
    from icpkit.api.limits import read_record

    try:
        raw = json.dumps({"record": record}, allow_nan=False).encode()
    except ValueError:
        assume(False)  # an infinite number is no JSON: refused as a body, tested elsewhere
    limits = Limits(max_fields=4, max_key=5, max_string=max(1, len(raw) + slack), max_list=3)

    def verdict(run):
        try:
            run()
        except RequestError as exc:
            return exc.status, exc.field, exc.message
        return None

    assert verdict(lambda: parse_score(raw, limits)) == verdict(lambda: read_record(record, "record", limits))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(["/v1/score", "/v1/score/batch"]),
    body=json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=200),
)
def test_bad_input_never_gets_a_500(client, path, body) -> None:
    r = client.post(path, content=body, headers={**AUTH, "content-type": "application/json"})
    assert r.status_code in (200, 413, 422), r.text
    assert r.headers["content-type"] == "application/json"


# ----------------------------------------------------------------------------------------------------- CORS


def test_cors_lets_configured_origins_call_with_a_token(make_client) -> None:
    client = make_client(cors_origins=["https://www.acme.com"])
    pre = client.options(
        "/v1/score",
        headers={
            "Origin": "https://www.acme.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "https://www.acme.com"
    assert "authorization" in pre.headers["access-control-allow-headers"]
    r = client.post("/v1/score", json={"record": {}}, headers={**AUTH, "Origin": "https://www.acme.com"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://www.acme.com"
    asked = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    evil = client.options("/v1/score", headers=asked)
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
    r = client.post("/v1/score", json={"record": {}}, headers={**AUTH, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers


def test_no_cors_headers_unless_configured(client) -> None:
    r = client.post("/v1/score", json={"record": {}}, headers={**AUTH, "Origin": "https://www.acme.com"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


# ------------------------------------------------------------------------------------------ request id, logs


def test_request_ids_are_echoed_when_sane_and_made_otherwise(client) -> None:
    r = client.get("/healthz", headers={"X-Request-ID": "router-42.a_b"})
    assert r.headers["x-request-id"] == "router-42.a_b"
    r = client.get("/healthz", headers={"X-Request-ID": "jane@acme.com"})
    made = r.headers["x-request-id"]
    assert made != "jane@acme.com" and len(made) == 16
    assert client.get("/healthz").headers["x-request-id"] != made


def test_access_lines_are_json_without_secrets_or_personal_data(client, log_stream) -> None:
    client.post("/v1/score", json={"record": {"email": SECRET, "industry": "Software"}}, headers=AUTH)
    client.post("/v1/score/batch", json={"records": [{"name": SECRET}] * 2}, headers=AUTH)
    client.get(f"/v1/leads/{SECRET}", headers=AUTH)
    client.post("/v1/score", json={"record": {"x": {"email": SECRET}}}, headers=AUTH)
    client.get("/v1/icp", headers={"Authorization": "Bearer wrong-token-but-long-enough"})
    lines = [json.loads(line) for line in log_stream.getvalue().splitlines()]
    access = [e for e in lines if "method" in e]
    assert [(e["method"], e["path"], e["status"]) for e in access] == [
        ("POST", "/v1/score", 200),
        ("POST", "/v1/score/batch", 200),
        ("GET", "-", 404),
        ("POST", "/v1/score", 422),
        ("GET", "/v1/icp", 401),
    ]
    assert access[1]["records"] == 2
    for e in access:
        assert set(e) >= {"ts", "method", "path", "status", "ms", "spec_hash", "request_id"}
        assert e["ms"] >= 0 and len(e["spec_hash"]) == 64
    text = log_stream.getvalue()
    for secret in (SECRET, TOKEN, "wrong-token-but-long-enough", "Software", "Bearer"):
        assert secret not in text


def test_buffered_access_lines_reach_the_stream_on_flush() -> None:
    import io

    from icpkit.api import JsonLog

    out = io.StringIO()
    log = JsonLog(out, flush_every=3600)
    log.write({"method": "GET"})
    log.write({"method": "POST"})
    assert out.getvalue() == ""
    log.flush()
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [e["method"] for e in lines] == ["GET", "POST"]
    assert lines[0]["ts"].endswith("Z") and len(lines[0]["ts"]) == len("2026-01-01T00:00:00.000Z")


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.dates(min_value=dt.date(1, 1, 1)).map(dt.date.isoformat),
        st.text(alphabet="0123456789-W+ T:\t٣", min_size=8, max_size=12),
        st.sampled_from(["2026-02-30", "2026-W10-1", " 2026-03-03", "2026-03-03 ", "2026-1-011", "٢٠٢٦-03-03"]),
    )
)
def test_the_fast_date_reading_agrees_with_the_reference(text: str) -> None:
    from icpkit.score.python import iso_date
    from icpkit.score.semantics import norm_text, parse_date

    fast = iso_date(text)
    assert fast is None or fast == parse_date(norm_text(text))
    if len(text) == 10 and text[4] == text[7] == "-" and text.isascii():  # the plain form: read fast, or no date
        assert fast == parse_date(norm_text(text))


def test_queued_access_lines_render_as_the_json_they_stand_for() -> None:
    import io

    from icpkit.api import JsonLog

    out = io.StringIO()
    log = JsonLog(out, flush_every=3600)
    log.access("POST", "/v1/score/batch", 200, 0.04567, "ab" * 32, "router-42.a_b", 3)
    log.access('PR"OP\nFIND', "-", 400, 12.0, "cd" * 32, "0123abcd", None)
    log.event("version_in_force", version=4)
    assert out.getvalue() == ""
    log.flush()
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [{k: v for k, v in e.items() if k != "ts"} for e in lines] == [
        {"method": "POST", "path": "/v1/score/batch", "status": 200, "ms": 0.046, "spec_hash": "ab" * 32,
         "request_id": "router-42.a_b", "records": 3},
        {"method": 'PR"OP\nFIND', "path": "-", "status": 400, "ms": 12.0, "spec_hash": "cd" * 32,
         "request_id": "0123abcd"},
        {"event": "version_in_force", "version": 4},
    ]  # fmt: skip
    assert all(len(e["ts"]) == len("2026-01-01T00:00:00.000Z") and e["ts"].endswith("Z") for e in lines)


odd_values = json_values | st.sampled_from(
    [math.inf, -math.nan, (1, 2), b"x", {"k": 1}, [1.5, math.inf], [None, True, "x"], "a" * 9, ["a" * 9]]
)


@settings(max_examples=300, deadline=None)
@given(
    record=st.dictionaries(st.text(max_size=6), odd_values, max_size=5) | odd_values,
    short=st.booleans(),
    finite=st.booleans(),
)
def test_the_c_record_check_accepts_only_what_the_python_walk_accepts(record, short, finite) -> None:
    """``record_ok`` lets a record skip the Python walk: the verdict, and the message of a refusal, stay the walk's."""
    from icpkit.api import limits as module

    if module._record_ok is None:
        pytest.skip("icpkit._native is not built on this machine")
    limits = Limits(max_fields=4, max_key=5, max_string=8, max_list=3)
    flags = {"short": short, "finite": finite}

    def verdict():
        try:
            module.read_record(record, "record", limits, **flags)
        except RequestError as exc:
            return exc.status, exc.field, exc.message
        return None

    with_c = verdict()
    saved, module._record_ok = module._record_ok, None
    try:
        assert verdict() == with_c
    finally:
        module._record_ok = saved
    if saved(record, 4, 5, 8, 3, short, finite):
        assert with_c is None


def test_the_c_record_check_takes_the_usual_record() -> None:
    from icpkit.api import limits as module

    if module._record_ok is None:
        pytest.skip("icpkit._native is not built on this machine")
    usual = {"industry": "Software", "employees": 120, "arr": 1.5e6, "stack": ["HubSpot", None], "b2b": True, "x": None}
    assert module._record_ok(usual, 200, 100, 2000, 200, False, False)
    assert not module._record_ok({**usual, "arr": math.nan}, 200, 100, 2000, 200, False, False)
    assert module._record_ok({**usual, "arr": math.nan}, 200, 100, 2000, 200, False, True)  # orjson read it


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.tuples(
            st.floats(0, 4e9) | st.sampled_from([1765000000.0, 1765000000.9995, 0.0]),
            st.sampled_from(["POST", "GET", "OPTIONS", "BREW", "PØST"]),
            st.sampled_from(["/v1/score", "-", "/v1/score/batch"]),
            st.integers(100, 599),
            st.floats(0, 1e6) | st.sampled_from([0.0005, 0.0015, 0.04567, 12.0]),
            st.sampled_from(["ab" * 32, "0" * 64]),
            st.from_regex(r"[A-Za-z0-9._-]{1,20}", fullmatch=True),
            st.none() | st.integers(0, 10**6),
        )
        | st.sampled_from(['{"event":"x"}\n', '{"event":"é"}\n']),
        max_size=6,
    )
)
def test_the_c_access_line_renderer_writes_what_the_python_one_writes(lines) -> None:
    from icpkit.api import JsonLog
    from icpkit.api import logs as module

    if module._render_access is None:
        pytest.skip("icpkit._native is not built on this machine")
    log = JsonLog(None)
    text = module._render_access(lines)
    usual = all(
        (type(x) is str and x.isascii()) or (x[1] in ("POST", "GET", "OPTIONS") and x[0] < 253402300800) for x in lines
    )
    assert (text is not None) is usual
    if text is not None:
        assert text == log._render_python(lines)
    assert log._render(lines) == log._render_python(lines)
