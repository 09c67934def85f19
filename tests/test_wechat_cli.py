"""`flask wechat send` against a real HTTP server, in each mode, and its errors."""

import threading

import pytest
from wechat_user import wechat_config
from werkzeug.serving import make_server

from app import create_app
from handlers.wechat_platform import MODES


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The app behind a real HTTP server on a free port, as `flask run` would serve it."""
    app = create_app(wechat_config(tmp_path_factory.mktemp("cli") / "bot.sqlite", WECHAT_ALLOW_PLAINTEXT=True))
    app.extensions["knowledge"].current()  # the matcher is built now, not inside the first reply's 4.5 s
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}/wechat"
    server.shutdown()
    server.server_close()
    thread.join()


def send(app, *args):
    return app.test_cli_runner().invoke(args=["wechat", "send", *args])


@pytest.mark.parametrize("mode", MODES)
def test_send_prints_what_the_user_sees_in_every_mode(served, mode):
    app, url = served
    result = send(app, "家庭共济怎么开通", "--url", url, "--mode", mode, "--user", f"o_cli_{mode}")
    assert result.exit_code == 0, result.output
    assert "国家医保服务平台" in result.output


def test_send_events(served):
    app, url = served
    assert "欢迎" in send(app, "--event", "subscribe", "--key", "qrscene_7", "--url", url).output
    assert "国家医保服务平台" in send(app, "--event", "click", "--key", "MENU_GONGJI_OPEN", "--url", url).output
    silent = send(app, "--event", "click", "--key", "NO_SUCH_BUTTON", "--url", url)
    assert silent.exit_code == 0 and "success" in silent.output


def test_a_wrong_token_shows_the_http_status(served, tmp_path):
    _, url = served
    stranger = create_app(wechat_config(tmp_path / "bot.sqlite", WECHAT_TOKEN="not-the-servers-token"))
    result = send(stranger, "你好", "--url", url)
    assert result.exit_code == 1
    assert "HTTP 403" in result.output


def test_another_encodingaeskey_shows_the_http_status(served, tmp_path):
    _, url = served
    stranger = create_app(wechat_config(tmp_path / "bot.sqlite", WECHAT_AES_KEY="B" * 43))
    result = send(stranger, "你好", "--url", url, "--mode", "aes")
    assert result.exit_code == 1
    assert "HTTP 400" in result.output


def forged_reply(environ, start_response):
    """A server whose encrypted reply carries a MsgSignature it did not compute."""
    start_response("200 OK", [("Content-Type", "application/xml")])
    return [
        b"<xml><Encrypt>QUJD</Encrypt><MsgSignature>0000</MsgSignature><TimeStamp>1</TimeStamp><Nonce>2</Nonce></xml>"
    ]


def test_a_badly_signed_reply_is_reported(served):
    app, _ = served
    server = make_server("127.0.0.1", 0, forged_reply)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    result = send(app, "你好", "--url", f"http://127.0.0.1:{server.server_port}/wechat", "--mode", "aes")
    thread.join()
    server.server_close()
    assert result.exit_code == 1
    assert "MsgSignature does not match" in result.output


def test_an_unreachable_server_is_a_clear_error(served):
    app, _ = served
    result = send(app, "你好", "--url", "http://127.0.0.1:9/wechat")
    assert result.exit_code == 1
    assert "cannot reach" in result.output


def test_text_or_an_event_is_required(served):
    app, url = served
    assert send(app, "--url", url).exit_code == 2
    assert send(app, "--event", "click", "--url", url).exit_code == 2


@pytest.mark.parametrize("data_format", ["json", "xml"])
def test_send_to_the_miniprogram_chat_shows_the_answer_sent_through_the_api(tmp_path, data_format):
    app = create_app(wechat_config(tmp_path / "bot.sqlite"))
    args = ["wechat", "send", "家庭共济怎么开通", "--channel", "miniprogram", "--format", data_format]
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    passive, _, sent = result.output.partition("customer-service message to o_local_tester after")
    assert "server answered “success”" in passive and "国家医保服务平台" in sent


def test_send_to_the_miniprogram_chat_shows_the_greeting_and_a_transfer(tmp_path):
    app = create_app(wechat_config(tmp_path / "bot.sqlite", MINIPROGRAM_KF_TRANSFER=True))
    greeting = app.test_cli_runner().invoke(args=["wechat", "send", "--event", "enter", "--channel", "miniprogram"])
    assert greeting.exit_code == 0 and "回复数字" in greeting.output
    transfer = app.test_cli_runner().invoke(args=["wechat", "send", "人工", "--channel", "miniprogram"])
    assert transfer.exit_code == 0 and "transfer_customer_service" in transfer.output


def test_send_to_a_running_miniprogram_endpoint_prints_its_success(served, monkeypatch):
    app, url = served
    monkeypatch.setitem(app.config, "MINIPROGRAM_PUSH_TOKEN", "mp-token")
    result = send(app, "你好", "--channel", "miniprogram", "--format", "json", "--url", url + "/miniprogram")
    assert result.exit_code == 0, result.output
    assert "server answered “success”" in result.output and "customer-service API" in result.output


def test_json_and_enter_are_for_the_miniprogram_only(served):
    app, url = served
    assert send(app, "你好", "--format", "json", "--url", url).exit_code == 2
    assert send(app, "--event", "enter", "--url", url).exit_code == 2
    assert send(app, "--event", "click", "--key", "K", "--channel", "miniprogram").exit_code == 2
