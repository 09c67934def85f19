"""/admin through Flask's test client: accounts, login, CSRF, lock-out, roles and the audit log."""

from __future__ import annotations

import engines
import pytest
from admin_console import PASSWORD, Operator, console_db, create_user

from app import create_app
from bot.storage import open_db, operators

pytestmark = pytest.mark.engines  # the console on SQLite, and on the PostgreSQL several hosts share


def test_a_visitor_not_logged_in_is_sent_to_the_login_page(admin_app):
    client = admin_app.test_client()
    for path in ("/admin/", "/admin/unanswered", "/admin/faqs/gongji-what-is", "/admin/publish", "/admin/audit"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/admin/login")
    assert "<h1>登录</h1>" in client.get("/admin/login").get_data(as_text=True)


def test_create_user_reads_the_password_from_stdin_and_stores_only_a_hash(admin_app):
    result = create_user(admin_app.test_cli_runner(), "ann", "publisher", "correct horse battery")
    assert result.exit_code == 0, result.output
    assert "created: ann (publisher)" in result.output
    account = operators.find_operator(console_db(admin_app), "ann")
    assert account["role"] == "publisher"
    assert account["password_hash"].startswith("scrypt:") and "correct horse" not in account["password_hash"]


def test_create_user_refuses_a_short_password_and_an_unknown_role(admin_app):
    runner = admin_app.test_cli_runner()
    assert create_user(runner, "ann", "editor", "short").exit_code != 0
    assert create_user(runner, "ann", "admin").exit_code != 0
    assert operators.find_operator(console_db(admin_app), "ann") is None


def test_login_then_logout(editor):
    page = editor.client.get("/admin/")
    assert page.status_code == 200 and "ann（编辑员）" in page.get_data(as_text=True)
    assert editor.post("/admin/logout").status_code == 302
    assert editor.client.get("/admin/").status_code == 302


def test_the_session_cookie_is_secure_httponly_and_samesite(admin_app):
    create_user(admin_app.test_cli_runner(), "ann", "editor")
    response = Operator(admin_app.test_client()).log_in("ann")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_secure_flag_can_be_switched_off_for_local_http(tmp_path):
    config = {"TESTING": True, "DATABASE": str(tmp_path / "b.sqlite"), "ADMIN_COOKIE_SECURE": False}
    app = create_app(config, warm=False)
    assert "Secure" not in app.test_client().get("/admin/login").headers["Set-Cookie"]


def test_a_wrong_password_is_refused(admin_app):
    create_user(admin_app.test_cli_runner(), "ann", "editor")
    operator = Operator(admin_app.test_client())
    response = operator.log_in("ann", "not the password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert operator.log_in("nobody", "not the password").status_code == 401
    assert operator.client.get("/admin/").status_code == 302


def test_a_form_without_the_csrf_token_is_refused_login_included(admin_app, editor):
    client = admin_app.test_client()
    forged = client.post("/admin/login", data={"name": "ann", "password": "a long enough password"})
    assert forged.status_code == 400
    assert client.get("/admin/").status_code == 302  # not logged in by the forged form
    assert editor.client.post("/admin/logout").status_code == 400
    wrong = editor.client.post("/admin/faqs/gongji-what-is", data={"csrf_token": "made-up", "question": "x"})
    assert wrong.status_code == 400 and "不是从本站提交的" in wrong.get_data(as_text=True)
    assert editor.client.get("/admin/").status_code == 200  # still logged in: the forged posts did nothing


def test_repeated_wrong_passwords_lock_the_account_even_against_the_right_one(admin_app):
    create_user(admin_app.test_cli_runner(), "ann", "editor")
    operator = Operator(admin_app.test_client())
    assert [operator.log_in("ann", "wrong").status_code for _ in range(3)] == [401, 401, 429]
    locked = operator.log_in("ann")
    assert locked.status_code == 429 and "锁定" in locked.get_data(as_text=True)
    assert operator.client.get("/admin/").status_code == 302
    actions = [e["action"] + ":" + e["detail"] for e in operators.audit_entries(console_db(admin_app))]
    assert "login refused:account locked" in actions


def test_a_new_password_from_the_command_line_unlocks_the_account(admin_app):
    runner = admin_app.test_cli_runner()
    create_user(runner, "ann", "editor")
    operator = Operator(admin_app.test_client())
    for _ in range(3):
        operator.log_in("ann", "wrong")
    assert "updated" in create_user(runner, "ann", "editor", "another long password").output
    assert operator.log_in("ann", "another long password").status_code == 302


def test_an_editor_may_not_publish_or_roll_back(editor):
    assert editor.post("/admin/publish", form_page="/admin/publish").status_code == 403
    assert editor.post("/admin/rollback", {"version": "1"}, form_page="/admin/publish").status_code == 403


def test_the_login_page_only_redirects_within_the_console(admin_app):
    create_user(admin_app.test_cli_runner(), "ann", "editor")
    operator = Operator(admin_app.test_client())
    response = operator.client.post(
        "/admin/login",
        data={"name": "ann", "password": PASSWORD, "next": "//evil.example/", "csrf_token": operator.token()},
    )
    assert response.headers["Location"] == "/admin/"


def test_the_audit_log_says_who_did_what_and_when(editor):
    page = editor.client.get("/admin/audit").get_data(as_text=True)
    assert "创建账号" in page and "(command line)" in page
    assert "登录" in page and "ann" in page


def test_the_rest_of_the_app_keeps_its_own_error_answers(admin_app):
    client = admin_app.test_client()
    assert client.get("/api/v1/no-such-call").get_json()["error"]["code"] == "not_found"
    assert client.get("/admin/faqs/no-such-entry").status_code == 302  # not logged in: to the login page first


def test_two_hosts_on_one_postgresql_share_accounts_lock_out_and_audit_log(tmp_path, kb_dir):
    """Behind a load balancer: an account made on one host logs in on the other, and both keep one audit log."""
    with engines.fresh_store() as shared:

        def host(name: str):
            config = {"TESTING": True, **shared, "DATABASE": str(tmp_path / f"{name}.sqlite")}
            return create_app({**config, "KNOWLEDGE_DIR": str(kb_dir), "ADMIN_LOGIN_ATTEMPTS": 3}, warm=False)

        first, second = host("first"), host("second")
        try:
            assert create_user(first.test_cli_runner(), "ann", "editor").exit_code == 0
            assert create_user(first.test_cli_runner(), "pat", "publisher").exit_code == 0
            on_second = Operator(second.test_client())
            assert on_second.log_in("pat").status_code == 302
            assert on_second.post("/admin/unanswered/out-of-scope", {"question": "今天天气怎么样"}).status_code == 302

            wrong = [Operator(app.test_client()).log_in("ann", "wrong").status_code for app in (first, second, first)]
            assert wrong == [401, 401, 429]  # the wrong passwords on either host count together
            assert Operator(second.test_client()).log_in("ann").status_code == 429

            on_first = Operator(first.test_client())
            assert on_first.log_in("pat").status_code == 302
            page = on_first.client.get("/admin/audit").get_data(as_text=True)
            assert "标为不在服务范围" in page and "今天天气怎么样" in page and "登录被拒" in page
            assert operators.dismissed_questions(console_db(first)) == {"今天天气怎么样"}
            for app in (first, second):  # nothing went to either host's own SQLite file
                assert operators.find_operator(open_db(app.config["DATABASE"]), "pat") is None
        finally:
            first.extensions["bot"].close()
            second.extensions["bot"].close()
