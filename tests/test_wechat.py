"""/wechat end to end: wechatpy plays WeChat's server; the real bot, knowledge base and SQLite answer."""

import base64
import dataclasses
import hashlib
import io
import logging
import shutil
import threading
import time
from xml.sax.saxutils import escape

import pytest
import xmltodict
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from wechat_user import (
    AES_KEY,
    APP_ID,
    SAMPLE_ACCOUNT,
    SAMPLE_ENCRYPT,
    SAMPLE_QUERY,
    SAMPLE_USER,
    TOKEN,
    WeChatUser,
    eventually,
    wechat_config,
)

import bot.knowledge as knowledge
from app import create_app
from bot.privacy import user_hash
from handlers.wechat_platform import MODES, Account, Delivery, deliver, message_xml, open_reply
from handlers.wechat_push import signature_of

pytestmark = pytest.mark.engines

QUESTION, ANSWER = "家庭共济怎么开通", "国家医保服务平台"  # gongji-open-online's answer names the national app
STORE_SETTINGS = ("DATABASE", "DATABASE_URL", "REDIS_URL", "REDIS_PREFIX")
SECRET = "我的身份证号是110101199003071234"  # must never reach the log


@pytest.fixture(scope="module")
def wechat_app(module_storage):
    """One app (one Matcher build) for the module; each test talks as its own follower, so no state leaks."""
    app = create_app(wechat_config(**module_storage, WECHAT_ALLOW_PLAINTEXT=True))
    yield app
    app.extensions["bot"].close()


@pytest.fixture
def user(wechat_app, request):
    return WeChatUser(wechat_app.test_client(), openid="o_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest())


def turns_of(app, openid: str) -> int:
    """Rows in the operators' `turns` log for one follower."""
    db = app.extensions["bot"].records_db
    who = user_hash(app.config["USER_HASH_SALT"], "wechat", openid)
    return db.execute("SELECT COUNT(*) FROM turns WHERE user_hash = ?", [who]).fetchone()[0]


def url_check(client, timestamp: int | None = None, signature: str | None = None):
    stamp, nonce = str(int(time.time()) if timestamp is None else timestamp), "1320562132"
    expected = hashlib.sha1("".join(sorted([TOKEN, stamp, nonce])).encode()).hexdigest()
    query = {"signature": expected if signature is None else signature, "timestamp": stamp, "nonce": nonce}
    return client.get("/wechat", query_string={**query, "echostr": "5837397520665436492"})


# URL check


def test_url_check_echoes_echostr(user):
    response = url_check(user.client)
    assert response.status_code == 200
    assert response.data == b"5837397520665436492"


@pytest.mark.parametrize("signature", ["0" * 40, "", "签名"], ids=["wrong", "empty", "non-ASCII"])
def test_url_check_refuses_a_bad_signature(user, signature):
    assert url_check(user.client, signature=signature).status_code == 403


def test_url_check_refuses_an_old_signed_request(user):
    assert url_check(user.client, timestamp=int(time.time()) - 3600).status_code == 403


# Messages and events: each gets the right kind of reply


@pytest.mark.parametrize("mode", MODES)
def test_a_question_gets_its_faq_answer_in_every_mode(user, mode):
    reply = user.send(QUESTION, mode=mode)
    assert ANSWER in reply.content
    assert user.response.mimetype == "application/xml"
    on_the_wire = user.response.data
    assert (b"<Encrypt>" in on_the_wire) == (mode != "plain")
    assert (ANSWER.encode() in on_the_wire) == (mode == "plain")


def test_compatible_mode_answers_the_encrypted_message_not_the_plaintext_copy(user):
    delivery = user.delivery(message_xml(user.account, user.openid, "text", {"Content": QUESTION}), "compat")
    forged = delivery.body.replace(QUESTION.encode(), "红烧肉怎么做".encode())
    assert QUESTION.encode() not in forged
    response = user.post(dataclasses.replace(delivery, body=forged))
    assert ANSWER in open_reply(user.account, delivery, response.data).content


def test_voice_with_recognition_is_answered_like_text(user):
    reply = user.message("voice", {"MediaId": "media-1", "Format": "amr", "Recognition": QUESTION})
    assert ANSWER in reply.content


@pytest.mark.parametrize("recognition", [{"Recognition": ""}, {}], ids=["nothing recognised", "recognition off"])
def test_voice_without_recognition_asks_the_user_to_type(user, recognition):
    reply = user.message("voice", {"MediaId": "media-1", "Format": "amr", **recognition})
    assert "用文字打出来" in reply.content


@pytest.mark.parametrize(
    ("msg_type", "fields"),
    [
        ("image", {"PicUrl": "http://mmbiz.qpic.cn/x.jpg", "MediaId": "media-2"}),
        ("location", {"Location_X": "23.134521", "Location_Y": "113.358803", "Scale": "20", "Label": "广州"}),
        ("link", {"Title": "医保新规", "Description": "家庭共济", "Url": "https://example.com/a"}),
        ("video", {"MediaId": "media-3", "ThumbMediaId": "thumb-3"}),
        ("shortvideo", {"MediaId": "media-4", "ThumbMediaId": "thumb-4"}),
    ],
)
def test_media_gets_the_text_only_reply(user, msg_type, fields):
    assert "只能看懂文字" in user.message(msg_type, fields).content


@pytest.mark.parametrize("key", [None, "qrscene_42"], ids=["search", "QR code"])
def test_subscribing_gets_the_greeting(user, key):
    reply = user.event("subscribe", key)
    assert "欢迎" in reply.content and QUESTION in reply.content


def test_a_menu_click_gets_that_faq(user):
    assert ANSWER in user.event("CLICK", "MENU_GONGJI_OPEN").content


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("unsubscribe", ""),
        ("VIEW", "https://example.com/menu"),
        ("SCAN", "42"),
        ("LOCATION", None),
        ("TEMPLATESENDJOBFINISH", None),
        ("CLICK", "NO_SUCH_BUTTON"),
    ],
)
def test_events_that_need_no_answer_get_success(user, name, key):
    assert user.event(name, key).content is None
    assert user.response.data == b"success"
    assert user.response.mimetype == "text/plain"


def test_clarify_then_a_number_answers_that_option(wechat_app, user):
    offered = user.send("亲情账户绑定").content
    assert "1." in offered and "回复数字即可" in offered
    second_title = offered.split("2. ", 1)[1].split("\n", 1)[0]
    kb = wechat_app.extensions["knowledge"].current()[0]
    chosen = next(faq for faq in kb.faqs if faq.title == second_title)
    assert chosen.answer.splitlines()[0] in user.send("2").content


def test_a_region_named_once_is_remembered_for_the_next_question(user):
    user.send("我在太原上班")
    assert "山西医保" in user.send(QUESTION).content


def test_feedback_after_an_answer_is_stored(wechat_app, user):
    user.send("亲情账户最多能加几个人")
    assert "谢谢" in user.send("有用").content
    who = user_hash(wechat_app.config["USER_HASH_SALT"], "wechat", user.openid)
    rows = wechat_app.extensions["bot"].records_db.execute(
        "SELECT faq_id, helpful FROM feedback WHERE user_hash = ?", [who]
    )
    assert [tuple(row) for row in rows.fetchall()] == [("qinqing-limits", 1)]


def test_answers_options_and_fallbacks_end_with_the_local_rules_note_small_talk_does_not(user):
    for text in (QUESTION, "红烧肉怎么做", "亲情账户绑定"):
        assert user.send(text).content.endswith("以参保地医保部门规定为准。")
    assert "以参保地医保部门规定为准" not in user.send("你好").content


def test_tencents_sample_message_decrypts_and_is_answered(wechat_app, monkeypatch):
    monkeypatch.setitem(wechat_app.config, "WECHAT_TIMESTAMP_TOLERANCE", 0)  # the sample is from 2014
    body = f"<xml><ToUserName>{SAMPLE_ACCOUNT}</ToUserName><Encrypt>{SAMPLE_ENCRYPT}</Encrypt></xml>"
    response = wechat_app.test_client().post("/wechat", query_string=SAMPLE_QUERY, data=body)
    assert response.status_code == 200
    account = Account(TOKEN, AES_KEY, APP_ID, original_id=SAMPLE_ACCOUNT)
    reply = open_reply(account, Delivery(SAMPLE_QUERY, body.encode(), SAMPLE_USER, "aes"), response.data)
    assert reply.content
    db = wechat_app.extensions["bot"].records_db
    who = user_hash(wechat_app.config["USER_HASH_SALT"], "wechat", SAMPLE_USER)
    assert [row[0] for row in db.execute("SELECT question FROM turns WHERE user_hash = ?", [who])] == ["abcdteT"]


# Retries


def test_a_retried_message_is_answered_once_with_the_same_reply(wechat_app, user):
    replies = [user.send("亲情账户怎么绑定", msg_id=6054768590064719001) for _ in range(3)]
    assert replies[0].content and len({r.content for r in replies}) == 1
    assert turns_of(wechat_app, user.openid) == 1


def test_two_app_instances_on_one_database_answer_a_retry_once(wechat_app, user):
    other = create_app(wechat_config(**{k: wechat_app.config[k] for k in STORE_SETTINGS}))
    followers = [user, WeChatUser(other.test_client(), user.openid), user]
    replies = [f.send("亲情账户怎么解绑", msg_id=6054768590064719002) for f in followers]
    other.extensions["bot"].close()
    assert replies[0].content and len({r.content for r in replies}) == 1
    assert turns_of(wechat_app, user.openid) == 1


class GatedBot:
    """The real bot behind a gate: holds a turn past WECHAT_REPLY_TIMEOUT, as a very slow turn would."""

    def __init__(self, bot):
        self.bot, self.gate = bot, threading.Event()

    def respond(self, incoming):
        self.gate.wait(10)
        return self.bot.respond(incoming)

    @property
    def records_db(self):
        return self.bot.records_db


def test_a_late_answer_is_answered_success_and_not_lost(wechat_app, user, monkeypatch):
    """Past WECHAT_REPLY_TIMEOUT: `success` now (issue 11); the turn goes on, its reply is stored and recorded, and a
    retry of the same MsgId gets it (this app has no customer-service API: see test_wechat_late for sending it)."""
    gated = GatedBot(wechat_app.extensions["bot"])
    monkeypatch.setitem(wechat_app.extensions, "bot", gated)
    monkeypatch.setitem(wechat_app.config, "WECHAT_REPLY_TIMEOUT", 0.2)
    assert user.send(QUESTION, msg_id=6054768590064719003).content is None
    assert user.response.data == b"success"
    gated.gate.set()
    # WeChat retries seconds later; the retry comes once the turn is recorded (its reply is stored with it).
    eventually(lambda: turns_of(wechat_app, user.openid))
    assert ANSWER in user.send(QUESTION, msg_id=6054768590064719003).content  # the retry gets the stored reply
    assert turns_of(wechat_app, user.openid) == 1


def test_an_answer_ready_within_the_reply_timeout_is_sent(wechat_app, user, monkeypatch):
    gated = GatedBot(wechat_app.extensions["bot"])
    monkeypatch.setitem(wechat_app.extensions, "bot", gated)
    monkeypatch.setitem(wechat_app.config, "WECHAT_REPLY_TIMEOUT", 2.0)
    threading.Timer(0.3, gated.gate.set).start()
    assert ANSWER in user.send(QUESTION, msg_id=6054768590064719004).content


# Bad requests: each gets its status, is logged without the body or openid, and the next good one is answered


def secret_xml(user) -> str:
    return message_xml(user.account, user.openid, "text", {"Content": SECRET})


def with_query(delivery: Delivery, **changes) -> Delivery:
    query = {k: v for k, v in {**delivery.query, **changes}.items() if v is not None}
    return dataclasses.replace(delivery, query=query)


def with_encrypt(delivery: Delivery, encrypt: str) -> Delivery:
    """A safe-mode delivery whose Encrypt is replaced and correctly signed again, so decryption is what fails."""
    q = delivery.query
    body = f"<xml><ToUserName><![CDATA[gh]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    signed = with_query(delivery, msg_signature=signature_of(TOKEN, q["timestamp"], q["nonce"], encrypt))
    return dataclasses.replace(signed, body=body.encode())


def hostile(user, doctype: str) -> str:
    """The message behind `doctype`, with a reference to its entity outside the CDATA, where it would expand."""
    return doctype + secret_xml(user).replace("]]></Content>", "]]>&e;</Content>")


XXE = '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
ENTITY = '<!DOCTYPE xml [<!ENTITY e "expanded">]>'
LAUGHS = (
    '<!DOCTYPE xml [<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    + '<!ENTITY e "&l9;">]>'
)
EXTERNAL_DTD = '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd">'


BLOCKS = base64.b64encode(bytes(range(64))).decode()  # four AES blocks that decrypt to noise


def post_plain_body(u, body):
    return u.post(dataclasses.replace(u.delivery(secret_xml(u), "plain"), body=body.encode()))


def post_chunked(u, delivery):
    """As a server that de-chunks the body (gunicorn, `flask run`) hands it over: no Content-Length."""
    return u.client.post(
        "/wechat",
        query_string=delivery.query,
        input_stream=io.BytesIO(delivery.body),
        headers={"Transfer-Encoding": "chunked", "Content-Type": "text/xml"},
        environ_overrides={"wsgi.input_terminated": True},
    )


BAD_REQUESTS = {
    "wrong signature": (403, lambda u: u.post(with_query(u.delivery(secret_xml(u), "plain"), signature="0" * 40))),
    "no signature": (403, lambda u: u.post(with_query(u.delivery(secret_xml(u), "plain"), signature=None))),
    "wrong msg_signature": (403, lambda u: u.post(with_query(u.delivery(secret_xml(u)), msg_signature="0" * 40))),
    "signature where msg_signature belongs": (
        403,
        lambda u: u.post(with_query(d := u.delivery(secret_xml(u)), msg_signature=d.query["signature"])),
    ),
    "stale timestamp": (403, lambda u: u.post(u.delivery(secret_xml(u), timestamp=int(time.time()) - 3600))),
    "future timestamp": (403, lambda u: u.post(u.delivery(secret_xml(u), timestamp=int(time.time()) + 3600))),
    "XXE": (400, lambda u: post_plain_body(u, hostile(u, XXE))),
    "external DTD": (400, lambda u: post_plain_body(u, hostile(u, EXTERNAL_DTD))),
    "entity": (400, lambda u: post_plain_body(u, hostile(u, ENTITY))),
    "billion laughs": (400, lambda u: post_plain_body(u, hostile(u, LAUGHS))),
    "billion laughs, encrypted": (400, lambda u: u.post(u.delivery(hostile(u, LAUGHS)))),
    "garbage": (400, lambda u: post_plain_body(u, "<xml><Content>" + SECRET)),
    "empty body": (400, lambda u: post_plain_body(u, "")),
    "no Encrypt": (400, lambda u: u.post(dataclasses.replace(u.delivery(secret_xml(u)), body=b"<xml><A>1</A></xml>"))),
    "body over 64 KB": (413, lambda u: u.post(u.delivery(secret_xml(u) + " " * 64 * 1024, "plain"))),
    "body over 64 KB, encrypted": (413, lambda u: u.post(u.delivery(secret_xml(u).replace(SECRET, "字" * 20000)))),
    "chunked body over 64 KB": (413, lambda u: post_chunked(u, u.delivery(secret_xml(u) + " " * 64 * 1024, "plain"))),
    "wrong AppID": (400, lambda u: u.post(deliver_for(u, app_id="wx0000000000000000"))),
    "wrong EncodingAESKey": (400, lambda u: u.post(deliver_for(u, aes_key="A" * 43))),
    "Encrypt not base64": (400, lambda u: u.post(with_encrypt(u.delivery(secret_xml(u)), "not base64!"))),
    "Encrypt not whole blocks": (400, lambda u: u.post(with_encrypt(u.delivery(secret_xml(u)), "QUJD" * 5))),
    "Encrypt whole blocks, bad padding": (400, lambda u: u.post(with_encrypt(u.delivery(secret_xml(u)), BLOCKS))),
    "Encrypt empty": (400, lambda u: u.post(with_encrypt(u.delivery(secret_xml(u)), ""))),
    "unknown encrypt_type": (400, lambda u: u.post(with_query(u.delivery(secret_xml(u)), encrypt_type="sm4"))),
}


def deliver_for(user, **account_changes) -> Delivery:
    """A safe-mode delivery from a WeChat that has other account settings than the server."""
    return deliver(dataclasses.replace(user.account, **account_changes), user.openid, secret_xml(user), "aes")


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_a_bad_request_gets_its_status_and_the_next_good_one_is_answered(user, caplog, case):
    caplog.set_level(logging.INFO)
    status, bad_request = BAD_REQUESTS[case]
    assert bad_request(user).status_code == status
    assert f"wechat_rejected: status={status}" in caplog.text
    assert SECRET not in caplog.text and "110101199003071234" not in caplog.text
    assert user.openid not in caplog.text
    assert ANSWER in user.send(QUESTION).content


@settings(max_examples=80, deadline=None, database=None)
@given(
    payload=st.binary(max_size=160) | st.integers(1, 10).flatmap(lambda n: st.binary(min_size=16 * n, max_size=16 * n))
)
def test_any_undecryptable_encrypt_is_a_400(wechat_app, payload):
    user = WeChatUser(wechat_app.test_client(), "o_fuzz")
    encrypt = base64.b64encode(payload).decode()
    assert user.post(with_encrypt(user.delivery(secret_xml(user)), encrypt)).status_code == 400


def test_without_a_token_wechat_answers_503_until_one_is_set(wechat_app, user, monkeypatch):
    monkeypatch.setitem(wechat_app.config, "WECHAT_TOKEN", "")
    assert url_check(user.client).status_code == 503
    assert user.post(user.delivery(secret_xml(user), "plain")).status_code == 503
    monkeypatch.undo()
    assert ANSWER in user.send(QUESTION, mode="plain").content


def test_encrypted_messages_need_the_aes_settings(wechat_app, user, monkeypatch):
    monkeypatch.setitem(wechat_app.config, "WECHAT_AES_KEY", "")
    assert user.post(user.delivery(secret_xml(user), "aes")).status_code == 503
    assert ANSWER in user.send(QUESTION, mode="plain").content


class BrokenBot:
    """A bot whose storage is gone: the failure happens outside the turn's own broad except."""

    def respond(self, incoming):
        raise RuntimeError("database is locked")


def test_an_unexpected_failure_is_a_logged_503_not_a_500(wechat_app, user, monkeypatch, caplog):
    monkeypatch.setitem(wechat_app.extensions, "bot", BrokenBot())
    assert user.post(user.delivery(secret_xml(user))).status_code == 503
    assert "wechat_failed: RuntimeError" in caplog.text and SECRET not in caplog.text
    monkeypatch.undo()
    assert ANSWER in user.send(QUESTION).content


def test_a_signed_plaintext_query_cannot_be_replayed_with_another_body(user):
    """Plaintext mode signs the query only: replaying it with a forged body is refused, a true retry is not."""
    first = user.delivery(message_xml(user.account, user.openid, "text", {"Content": QUESTION}, 7001), "plain")
    assert user.post(first).status_code == 200
    forged_xml = message_xml(user.account, "o_someone_else", "text", {"Content": "亲情账户绑定"}, 7002)
    forged = dataclasses.replace(first, body=forged_xml.encode("utf-8"))
    assert user.post(forged).status_code == 403
    assert user.post(first).status_code == 200  # WeChat's own retry: same query, same body


def test_the_body_limit_is_flasks_64_kb(wechat_app):
    assert wechat_app.config["MAX_CONTENT_LENGTH"] == 64 * 1024


# Every reply fits one WeChat message


def is_xml_char(char: str) -> bool:
    """XML 1.0 can carry this character at all (WeChat cannot send the others)."""
    return char in "\t\n\r" or "\x20" <= char <= "\ud7ff" or "\ue000" <= char <= "\ufffd" or char >= "\U00010000"


@settings(max_examples=60, deadline=None, database=None)
@given(text=st.text())
def test_any_text_gets_a_well_formed_reply_that_fits_one_message(wechat_app, text):
    user = WeChatUser(wechat_app.test_client(), "o_hypothesis")
    delivery = user.delivery(message_xml(user.account, user.openid, "text", {"Content": text}))
    response = user.post(delivery)
    if not all(map(is_xml_char, text)):
        assert response.status_code == 400
        return
    assert response.status_code == 200
    reply = open_reply(user.account, delivery, response.data)
    assert xmltodict.parse(reply.xml)["xml"]["Content"] == reply.content
    assert len(escape(reply.content).encode("utf-8")) <= 2000


@pytest.fixture(scope="module")
def long_answer_app(tmp_path_factory):
    """A copy of the knowledge base where 家庭共济怎么开通 has a ~1900-byte answer and a long note for 北京."""
    root = tmp_path_factory.mktemp("long")
    kb_dir = root / "knowledge"
    shutil.copytree(knowledge.DEFAULT_DIR, kb_dir, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = kb_dir / "faqs" / "gongji.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry = next(faq for faq in data["faqs"] if faq["id"] == "gongji-open-online")
    step = "打开国家医保服务平台APP，找到家庭共济，按页面提示填写家人信息后提交。"
    entry["answer"] = "特殊字符原样送达：<&>]]>\n" + "\n".join(f"{n}. 第{n}步：{step}" for n in range(1, 17))
    note = "可登录北京医保公共服务平台办理家庭共济关系维护。"
    entry["regions"]["北京"] = "\n".join(f"北京第{n}条：{note}" for n in range(30))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return create_app(wechat_config(root / "bot.sqlite", KNOWLEDGE_DIR=str(kb_dir)))


def test_a_long_answer_comes_in_pages_that_each_fit(long_answer_app):
    user = WeChatUser(long_answer_app.test_client(), "o_pages")
    pages = [user.send("北京家庭共济怎么开通").content]
    while pages[-1].endswith("回复“更多”查看后续"):
        pages.append(user.send("更多").content)
    assert len(pages) >= 3
    assert all(len(escape(page).encode("utf-8")) <= 2000 for page in pages)
    whole = "".join(pages)
    assert "特殊字符原样送达：<&>]]>" in whole and "第16步" in whole and whole.count("北京医保公共服务平台") == 30
    assert "全部发完" in user.send("更多").content


# Safe mode means safe (issue 9 #12)


@pytest.fixture(scope="module")
def safe_app(tmp_path_factory):
    """The default: WECHAT_AES_KEY set, WECHAT_ALLOW_PLAINTEXT off."""
    return create_app(wechat_config(tmp_path_factory.mktemp("safe") / "bot.sqlite"))


def test_in_safe_mode_a_plaintext_message_with_a_real_query_and_a_forged_sender_is_refused(safe_app, caplog):
    user = WeChatUser(safe_app.test_client(), "o_real_follower")
    real = user.delivery(message_xml(user.account, user.openid, "text", {"Content": QUESTION}), "aes")
    forged_xml = message_xml(user.account, "o_forged_sender", "text", {"Content": "共济"}, 7101)
    plain_query = {k: real.query[k] for k in ("signature", "timestamp", "nonce")}
    forged = dataclasses.replace(real, query=plain_query, body=forged_xml.encode())
    assert user.post(forged).status_code == 403
    assert "plaintext message while WECHAT_AES_KEY is set" in caplog.text
    url_query = url_check(user.client).request.args.to_dict()
    del url_query["echostr"]
    assert user.post(dataclasses.replace(forged, query=url_query)).status_code == 403
    assert turns_of(safe_app, "o_forged_sender") == 0
    assert ANSWER in user.send(QUESTION).content  # the encrypted message itself is read
    assert url_check(user.client).status_code == 200  # and the console's URL check still works


def test_plaintext_is_read_in_safe_mode_only_when_the_operator_allows_it(tmp_path):
    app = create_app(wechat_config(tmp_path / "bot.sqlite", WECHAT_ALLOW_PLAINTEXT=True))
    assert ANSWER in WeChatUser(app.test_client()).send(QUESTION, mode="plain").content
