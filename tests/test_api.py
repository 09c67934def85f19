"""/api/v1 for the mini-programs, through Flask's test client and a real SQLite file."""

import json
import time

import pytest
from wechat_user import WeChatUser, wechat_config

from app import create_app


@pytest.fixture
def api_app(tmp_path):
    return create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "bot.sqlite"),
            "KNOWLEDGE_RELOAD_SECONDS": 0,
            "API_CORS_ORIGINS": "https://mp.example.com",
        }
    )


@pytest.fixture
def api(api_app):
    return api_app.test_client()


def ask(api, text, **fields):
    response = api.post("/api/v1/ask", json={"text": text, **fields})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def error_of(response):
    assert response.is_json, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_ask_answers_with_the_whole_answer_and_a_signed_session(api):
    body = ask(api, "家庭共济怎么开通")
    assert body["action"] == "answer" and body["faq_id"] == "gongji-open-online"
    assert body["title"].startswith("家庭共济怎么开通")
    assert "国家医保服务平台" in body["answer"] and "回复“更多”" not in body["answer"]
    assert body["related"] and {"faq_id", "title"} == set(body["related"][0])
    assert body["session"]
    assert "回复“有用”" not in body["answer"]  # the page has buttons for that


def test_long_answers_come_whole_where_wechat_gets_pages(kb_dir, tmp_path):
    faq = kb_dir / "faqs" / "general.yaml"
    # Replace card-lending's answer with one just under the byte limit, so the test does not depend on its length.
    extra = "".join(f"      补充{i}：" + "医保卡和医保码只能本人使用。" * 4 + "\n" for i in range(11))
    text = faq.read_text(encoding="utf-8")
    start = text.index("    answer: |\n") + len("    answer: |\n")
    faq.write_text(text[:start] + extra + text[text.index("    related:", start) :], "utf-8")
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "b.sqlite"), "KNOWLEDGE_DIR": str(kb_dir)})
    from bot import Incoming

    via_wechat = app.extensions["bot"].respond(Incoming("wechat", "u", text="医保卡能借给家人用吗"))
    via_api = ask(app.test_client(), "医保卡能借给家人用吗")
    assert via_wechat.faq_id == via_api["faq_id"] == "card-lending"
    assert via_wechat.text.endswith("回复“更多”查看后续")
    assert "补充10" in via_api["answer"] and "回复“更多”" not in via_api["answer"]


def test_clarify_options_answer_by_number_and_by_faq_id(api):
    first = ask(api, "亲情账户绑定")
    assert first["action"] == "clarify" and len(first["options"]) >= 2
    assert "回复数字" not in first["answer"]
    by_number = ask(api, "1", session=first["session"])
    assert by_number["faq_id"] == first["options"][0]["faq_id"]
    again = ask(api, "亲情账户绑定", session=first["session"])
    by_id = ask(api, again["options"][1]["faq_id"], session=first["session"])
    assert by_id["action"] == "answer" and by_id["faq_id"] == again["options"][1]["faq_id"]


def test_region_from_the_client_adds_the_local_note(api):
    body = ask(api, "家庭共济怎么开通", region="山西")
    assert body["region"] == "山西" and "山西医保" in body["answer"]


def test_city_given_as_region_is_reported_as_its_province(api):
    assert ask(api, "亲情账户最多能加几个人", region="武汉")["region"] == "湖北"


def test_unknown_region_is_refused(api):
    response = api.post("/api/v1/ask", json={"text": "亲情账户绑定", "region": "火星"})
    assert response.status_code == 400 and "region" in error_of(response)["message"]


def test_forged_or_tampered_session_is_refused(api):
    session = ask(api, "你好")["session"]
    for bad in (session[:-2] + "xx", "made-up-session"):
        response = api.post("/api/v1/ask", json={"text": "1", "session": bad})
        assert response.status_code == 400
        assert error_of(response)["code"] == "invalid_session"


def test_sessions_do_not_share_conversations(api):
    mine = ask(api, "亲情账户绑定")
    other = ask(api, "1")  # a new user: "1" means nothing to them
    assert other["action"] != "answer" or other["faq_id"] != mine["options"][0]["faq_id"]


def test_same_question_through_api_and_wechat_gives_the_same_faq(tmp_path):
    app = create_app(wechat_config(tmp_path / "both.sqlite"))
    kb = app.extensions["knowledge"].current()[0]
    follower = WeChatUser(app.test_client(), openid="o_same_question")
    for text in ("孩子的医保怎么绑到我手机上", "亲情账户怎么解绑", "医保卡能借给我爸用吗"):
        via_api = ask(app.test_client(), text)
        via_wechat = follower.send(text).content
        assert kb.faq(via_api["faq_id"]).answer.splitlines()[0] in via_wechat


def test_healthz_is_503_when_the_knowledge_base_does_not_load(kb_dir, tmp_path):
    (kb_dir / "replies.yaml").write_text("clarify: [", encoding="utf-8")
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "h.sqlite"), "KNOWLEDGE_DIR": str(kb_dir)})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["checks"]["knowledge"].startswith("not loaded")


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ("{not json", "invalid_json", "JSON"),
        ("[1, 2]", "invalid_json", "object"),
        ('{"session": "x"}', "missing_field", "'text'"),
        ('{"text": 5}', "invalid_field", "'text' must be a str"),
        ('{"text": "亲情账户绑定", "region": 7}', "invalid_field", "'region'"),
        ('{"text": "   "}', "invalid_field", "empty"),
    ],
)
def test_bad_bodies_say_which_field(api, body, code, fragment):
    response = api.post("/api/v1/ask", data=body, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == code and fragment in error_of(response)["message"]


def test_text_over_500_characters_is_refused(api):
    response = api.post("/api/v1/ask", json={"text": "共" * 501})
    assert response.status_code == 400 and error_of(response)["code"] == "text_too_long"


def test_body_over_64_kb_is_413_json(api):
    response = api.post("/api/v1/ask", data=json.dumps({"text": "共" * 70000}), content_type="application/json")
    assert response.status_code == 413 and error_of(response)


def test_wrong_method_is_405_json(api):
    response = api.get("/api/v1/ask")
    assert response.status_code == 405 and error_of(response)["code"] == "method_not_allowed"


def test_unknown_api_path_is_404_json(api):
    assert api.get("/api/v1/nothing").status_code == 404 and error_of(api.get("/api/v1/nothing"))


def test_faq_list_filters_searches_and_pages(api):
    everything = api.get("/api/v1/faqs?per_page=100").get_json()
    assert everything["total"] == 32 and len(everything["faqs"]) == 32
    qinqing = api.get("/api/v1/faqs?category=亲情账户").get_json()
    assert qinqing["total"] == 14 and all(f["category"] == "亲情账户" for f in qinqing["faqs"])
    page2 = api.get("/api/v1/faqs?per_page=10&page=2").get_json()
    assert [f["faq_id"] for f in page2["faqs"]] == [f["faq_id"] for f in everything["faqs"][10:20]]
    search = api.get("/api/v1/faqs?q=亲情账户怎么解绑").get_json()
    assert search["faqs"][0]["faq_id"] == "qinqing-unbind"
    assert api.get("/api/v1/faqs?page=0").status_code == 400


def test_one_faq_in_full_and_unknown_is_404(api):
    body = api.get("/api/v1/faqs/qinqing-limits").get_json()
    assert body["title"] and body["answer"] and body["sources"] and body["reviewed"]
    response = api.get("/api/v1/faqs/no-such-faq")
    assert response.status_code == 404 and error_of(response)["code"] == "unknown_faq"


def test_categories_and_popular(api):
    categories = {c["name"]: c["count"] for c in api.get("/api/v1/categories").get_json()["categories"]}
    assert categories == {"区别对比": 3, "通用": 1, "家庭共济": 14, "亲情账户": 14}
    popular = api.get("/api/v1/popular").get_json()["faqs"]
    assert 3 <= len(popular) <= 5 and all(p["title"] for p in popular)


def test_feedback_is_stored_and_validated(api_app, api):
    session = ask(api, "亲情账户余额")["session"]
    assert api.post(
        "/api/v1/feedback", json={"session": session, "faq_id": "qinqing-balance", "helpful": True}
    ).get_json() == {"ok": True}
    from bot.storage import open_db

    rows = list(open_db(api_app.config["DATABASE"])["feedback"].rows)
    assert [(r["faq_id"], r["helpful"], r["channel"]) for r in rows] == [("qinqing-balance", 1, "api")]
    bad = api.post("/api/v1/feedback", json={"session": session, "faq_id": "qinqing-balance", "helpful": "yes"})
    assert bad.status_code == 400 and "'helpful'" in error_of(bad)["message"]
    unknown = api.post("/api/v1/feedback", json={"session": session, "faq_id": "nope", "helpful": False})
    assert unknown.status_code == 404


def test_rate_limit_per_session_answers_429_with_retry_after(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "r.sqlite"),
            "API_RATE_LIMIT_PER_SESSION": 2,
            "API_RATE_WINDOW": 3600,
            "KNOWLEDGE_RELOAD_SECONDS": 0,
        }
    )
    client = app.test_client()
    session = ask(client, "你好")["session"]
    ask(client, "谢谢", session=session)
    limited = client.post("/api/v1/ask", json={"text": "亲情账户绑定", "session": session})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert error_of(limited)["code"] == "rate_limited"
    assert ask(client, "亲情账户绑定")["action"] == "clarify"  # another session still gets answers


def test_rate_limit_per_ip(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "r.sqlite"),
            "API_RATE_LIMIT_PER_IP": 3,
            "API_RATE_WINDOW": 3600,
            "KNOWLEDGE_RELOAD_SECONDS": 0,
        }
    )
    client = app.test_client()
    statuses = [client.get("/api/v1/popular").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_cors_only_for_configured_origins(api):
    allowed = api.get("/api/v1/popular", headers={"Origin": "https://mp.example.com"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://mp.example.com"
    other = api.get("/api/v1/popular", headers={"Origin": "https://evil.example.com"})
    assert "Access-Control-Allow-Origin" not in other.headers
    preflight = api.options(
        "/api/v1/ask", headers={"Origin": "https://mp.example.com", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 200 and "POST" in preflight.headers["Access-Control-Allow-Methods"]


def test_login_is_off_by_default(api):
    response = api.post("/api/v1/login", json={"code": "abc"})
    assert response.status_code == 404 and error_of(response)["code"] == "login_disabled"


def test_healthz_says_not_ready_until_the_matcher_is_trained_then_ok(api):
    """A load balancer polls /healthz: 503 while the first training runs (never a wait), then 200."""
    started = time.monotonic()
    while (response := api.get("/healthz")).status_code == 503:
        assert response.get_json()["checks"]["knowledge"] == "not loaded yet: training the matcher"
        assert time.monotonic() - started < 120
        time.sleep(0.05)
    body = response.get_json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"
    assert body["checks"]["knowledge"].endswith("FAQs")


def test_chat_page_and_its_script_are_served(api):
    with api.get("/") as page:
        assert page.status_code == 200 and "/static/chat.js" in page.get_data(as_text=True)
    with api.get("/static/chat.js") as script:
        assert script.status_code == 200 and "/api/v1/ask" in script.get_data(as_text=True)


# Hardening (issue 9): odd input is a JSON 4xx, never a 500


@pytest.mark.parametrize("path", ["/api/v1/ask", "/api/v1/feedback"])
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_a_400_not_a_500(api, path, opening):
    response = api.post(path, data=opening * (60000 // len(opening)), content_type="application/json")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"


@pytest.mark.parametrize("query", ["page=²", "page=³", "per_page=¹", "page=٣", "page=" + "9" * 5000, "per_page=-1"])
def test_page_numbers_that_are_not_plain_digits_are_a_400(api, query):
    response = api.get(f"/api/v1/faqs?{query}")
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_field"


def test_a_huge_page_number_is_an_empty_page(api, kb):
    body = api.get("/api/v1/faqs?page=999999999").get_json()
    assert body["faqs"] == [] and body["total"] == len(kb.faqs)


@pytest.mark.parametrize("field", ["text", "session", "region"])
def test_a_lone_surrogate_is_a_400_naming_the_field(api_app, api, field):
    body = {"text": "家庭共济怎么开通", field: "共济\ud800"}
    response = api.post("/api/v1/ask", data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and f"'{field}'" in error_of(response)["message"]


def test_a_chunked_body_over_the_limit_is_413_json(api):
    import io

    body = json.dumps({"text": "共济", "pad": "x" * 70000}).encode()
    response = api.post(
        "/api/v1/ask",
        input_stream=io.BytesIO(body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413 and error_of(response)["code"] == "request_entity_too_large"


def login_session(app, identity: str) -> str:
    """The session POST /api/v1/login issues for a platform user (the code exchange itself needs the network)."""
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(app.config["SECRET_KEY"], salt="api-session").dumps(identity)


def test_rate_limit_keys_are_stored_hashed(api_app, api):
    from bot.storage import open_db

    session = login_session(api_app, "wechat:o_openid_of_a_real_user")
    ask(api, "家庭共济怎么开通", session=session)
    keys = [row[0] for row in open_db(api_app.config["DATABASE"]).execute("SELECT key FROM rate_limits")]
    assert len(keys) == 2  # the address and the session
    assert not any("o_openid_of_a_real_user" in key or "127.0.0.1" in key for key in keys), keys


def test_leaving_out_the_session_does_not_skip_the_per_session_limit(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "DATABASE": str(tmp_path / "r.sqlite"),
            "API_RATE_LIMIT_PER_IP": 0,
            "API_RATE_LIMIT_PER_SESSION": 2,
            "API_RATE_WINDOW": 3600,
            "KNOWLEDGE_RELOAD_SECONDS": 0,
        }
    )
    client = app.test_client()
    statuses = [client.post("/api/v1/ask", json={"text": "你好"}).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
