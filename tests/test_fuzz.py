"""Property-based fuzzing of the whole HTTP surface: no input is a 5xx, and the API always answers JSON.

Bounded in `make test` by the "bounded" hypothesis profile (conftest.py); README gives the longer run:
`.venv/bin/python -m pytest tests/test_fuzz.py --hypothesis-profile=fuzz`.
"""

from __future__ import annotations

import json
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wechat_user import (
    AES_KEY,
    APP_ID,
    MP_AES_KEY,
    MP_APP_ID,
    MP_TOKEN,
    TOKEN,
    WeChatUser,
    miniprogram_config,
    wechat_config,
)

from app import create_app
from handlers.wechat_platform import Account, deliver, message_fields, message_xml, render

ACCOUNT = Account(TOKEN, AES_KEY, APP_ID)

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
fuzz_settings = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    """The default WeChat safe mode (also the mini-program's chat), no rate limits (a 429 would hide the handlers),
    CORS for one origin."""
    folder = tmp_path_factory.mktemp("fuzz")
    return create_app(
        wechat_config(
            folder / "bot.sqlite",
            API_RATE_LIMIT_PER_IP=0,
            API_RATE_LIMIT_PER_SESSION=0,
            API_CORS_ORIGINS="https://a.b",
            MINIPROGRAM_PUSH_TOKEN=MP_TOKEN,
            MINIPROGRAM_PUSH_AES_KEY=MP_AES_KEY,
            MINIPROGRAM_APP_ID=MP_APP_ID,
        )
    )


@pytest.fixture(scope="module")
def plaintext_app(tmp_path_factory):
    """Plaintext allowed, so signed bodies of any shape reach the XML reader."""
    return create_app(wechat_config(tmp_path_factory.mktemp("fuzzplain") / "bot.sqlite", WECHAT_ALLOW_PLAINTEXT=True))


SURROGATES = st.sampled_from(["\ud800", "\udfff", "\ud83d"])
ANY_TEXT = st.text(max_size=40) | st.lists(st.text(max_size=5) | SURROGATES, max_size=6).map("".join)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | ANY_TEXT
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4), max_leaves=12
)
API_FIELDS = ("text", "session", "region", "faq_id", "helpful", "code")
API_OBJECTS = st.dictionaries(st.sampled_from(API_FIELDS) | ANY_TEXT, JSON_VALUES, max_size=5)
DEEP = st.builds(lambda n, o: o * n, st.integers(1, 12000), st.sampled_from(["[", '{"a":', '{"text":[']))
BODIES = (
    API_OBJECTS.map(lambda o: json.dumps(o, ensure_ascii=True).encode())
    | JSON_VALUES.map(lambda v: json.dumps(v).encode())
    | DEEP.map(str.encode)
    | st.binary(max_size=200)
    | ANY_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))
)

PATHS = (
    st.sampled_from(
        [
            "/",
            "/healthz",
            "/static/chat.js",
            "/static/../app.py",
            "/api/v1/ask",
            "/api/v1/faqs",
            "/api/v1/faqs/qinqing-limits",
            "/api/v1/categories",
            "/api/v1/popular",
            "/api/v1/feedback",
            "/api/v1/login",
            "/api/v1/",
            "/wechat",
            "/wechat/miniprogram",
        ]
    )
    | st.builds(lambda p: "/" + urllib.parse.quote(p, safe="/%"), st.text(max_size=30))
    | st.builds(lambda p: "/api/v1/faqs/" + urllib.parse.quote(p, safe=""), st.text(max_size=30))
)
METHODS = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND"])
QUERY_NAMES = st.sampled_from(
    ["page", "per_page", "q", "category", "signature", "timestamp", "nonce", "echostr", "encrypt_type"]
    + ["msg_signature", "openid"]
) | st.text(max_size=8)
QUERY_VALUES = (
    st.text(max_size=30) | st.integers(-(10**30), 10**30).map(str) | st.sampled_from(["²", "٣", "aes", "raw"])
)
QUERIES = st.lists(st.tuples(QUERY_NAMES, QUERY_VALUES), max_size=5)
LATIN1 = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40)
HEADERS = st.dictionaries(
    st.sampled_from(["Content-Type", "Origin", "X-Forwarded-For", "Accept", "Access-Control-Request-Method"])
    | st.sampled_from(["Content-Encoding", "Accept-Charset", "Cookie", "Range", "If-None-Match", "Authorization"]),
    st.sampled_from(["application/json", "text/xml", "application/json; charset=latin-1", "multipart/form-data"])
    | LATIN1,
    max_size=4,
)


def assert_well_behaved(response, path: str, method: str = "POST") -> None:
    assert response.status_code < 500, (response.status_code, response.get_data()[:300])
    if path.startswith("/api/") and response.status_code >= 400 and method != "HEAD":
        assert response.is_json, response.get_data()[:300]
        error = response.get_json()["error"]
        assert isinstance(error["code"], str) and isinstance(error["message"], str)


@fuzz_settings
@given(method=METHODS, path=PATHS, query=QUERIES, headers=HEADERS, body=BODIES)
def test_any_request_anywhere_is_never_a_5xx(fuzz_app, method, path, query, headers, body):
    with fuzz_app.test_client() as client:
        response = client.open(path, method=method, query_string=query, headers=headers, data=body)
        assert_well_behaved(response, path, method)
        response.close()


@fuzz_settings
@given(body=BODIES, path=st.sampled_from(["/api/v1/ask", "/api/v1/feedback", "/api/v1/login"]))
def test_any_json_body_to_the_api_is_answered_in_json(fuzz_app, body, path):
    response = fuzz_app.test_client().post(path, data=body, content_type="application/json")
    assert_well_behaved(response, path)
    assert response.is_json


@fuzz_settings
@given(fields=st.fixed_dictionaries({}, optional={name: JSON_VALUES for name in ("text", "session", "region")}))
def test_any_fields_in_a_question_are_an_answer_or_a_json_400(fuzz_app, fields):
    response = fuzz_app.test_client().post("/api/v1/ask", data=json.dumps(fields), content_type="application/json")
    assert_well_behaved(response, "/api/v1/ask")
    assert response.status_code in (200, 400), response.get_json()


@fuzz_settings
@given(query=st.dictionaries(st.sampled_from(["page", "per_page", "q", "category"]), QUERY_VALUES, max_size=4))
def test_any_faq_list_query_is_a_page_or_a_json_400(fuzz_app, query):
    response = fuzz_app.test_client().get("/api/v1/faqs", query_string=query)
    assert_well_behaved(response, "/api/v1/faqs")
    assert response.status_code in (200, 400)


XML_TEXT = st.text(st.characters(exclude_categories=["Cs", "Cc"]) | st.sampled_from("\t\n<>&]]>"), max_size=60)
XML_BODIES = st.one_of(
    XML_TEXT,
    st.builds(lambda t, f: f"<xml><{f}>{t}</{f}></xml>", XML_TEXT, st.sampled_from(["Content", "MsgType", "Encrypt"])),
    st.builds(
        lambda kind, fields: message_xml(ACCOUNT, "o_fuzz", kind, fields),
        st.sampled_from(["text", "voice", "image", "event", "location", "unknown"]),
        st.dictionaries(
            st.sampled_from(["Content", "Recognition", "Event", "EventKey", "MsgId", "CreateTime"]),
            XML_TEXT,
            max_size=4,
        ),
    ),
)


@fuzz_settings
@given(xml=XML_BODIES, mode=st.sampled_from(["plain", "aes", "compat"]))
def test_any_correctly_signed_wechat_body_is_a_reply_or_a_4xx(plaintext_app, xml, mode):
    """WeChat's signature and encryption are right; only what is inside is arbitrary."""
    if mode == "compat" and "</xml>" not in xml:
        mode = "aes"  # compatible mode puts Encrypt inside the plaintext <xml>: there must be one
    user = WeChatUser(plaintext_app.test_client(), "o_fuzz")
    response = user.post(user.delivery(xml, mode))
    assert response.status_code in (200, 400, 413), (response.status_code, response.data[:200])


@pytest.fixture(scope="module")
def miniprogram_app(tmp_path_factory):
    """The mini-program's chat, plaintext allowed; no send API (answers are recorded as failed, at once)."""
    database = tmp_path_factory.mktemp("fuzzmp") / "bot.sqlite"
    config = miniprogram_config(database, "http://127.0.0.1:9", MINIPROGRAM_PUSH_ALLOW_PLAINTEXT=True)
    return create_app(config | {"MINIPROGRAM_SECRET": ""})


MP_ACCOUNT = Account(MP_TOKEN, MP_AES_KEY, MP_APP_ID)


def is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


MP_FIELDS = ["Content", "MsgType", "Event", "SessionFrom", "MsgId", "CreateTime", "FromUserName", "ToUserName"]
MP_JSON_BODIES = st.one_of(
    JSON_VALUES.map(json.dumps),
    st.dictionaries(st.sampled_from(MP_FIELDS) | ANY_TEXT, JSON_VALUES, max_size=6).map(json.dumps),
    st.builds(
        lambda kind, fields: render(message_fields(MP_ACCOUNT, "o_fuzz", kind, fields), "json"),
        st.sampled_from(["text", "image", "miniprogrampage", "event", "unknown"]),
        st.dictionaries(st.sampled_from(MP_FIELDS[:6]), XML_TEXT, max_size=4),
    ),
    DEEP,
)


@fuzz_settings
@given(
    body=st.tuples(st.just("json"), MP_JSON_BODIES) | st.tuples(st.just("xml"), XML_BODIES),
    mode=st.sampled_from(["plain", "aes", "compat"]),
)
def test_any_correctly_signed_miniprogram_push_is_success_a_transfer_or_a_4xx(miniprogram_app, body, mode):
    """The mini-program's chat in either format: WeChat's signature and encryption right, the inside arbitrary."""
    data_format, text = body
    if mode == "compat" and not (is_json_object(text) if data_format == "json" else "</xml>" in text):
        mode = "aes"  # compatible mode puts Encrypt beside the plaintext fields: there must be some
    delivery = deliver(MP_ACCOUNT, "o_fuzz", text, mode, data_format=data_format)
    response = miniprogram_app.test_client().post(
        "/wechat/miniprogram", query_string=delivery.query, data=delivery.body, content_type="application/json"
    )
    assert response.status_code in (200, 400, 413), (response.status_code, response.data[:200])
