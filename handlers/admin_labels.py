"""Chinese names shown in the console for values stored in English (audit actions, roles, kinds of unanswered
question, the bot's reply actions, HTTP errors): the stored values stay as they are, since tests, the command line
and old rows use them."""

from __future__ import annotations

import re

from werkzeug.exceptions import HTTPException

AUDIT_ACTIONS = {
    "logged in": "登录",
    "logged out": "退出",
    "login refused": "登录被拒",
    "account locked": "账号已锁定",
    "wrong password": "密码错误",
    "created account": "创建账号",
    "reset account": "重设账号",
    "edited entry (draft)": "修改条目（草稿）",
    "added entry (draft)": "新增条目（草稿）",
    "added alternate (draft)": "添加问法（草稿）",
    "marked out of scope": "标为不在服务范围",
    "imported spreadsheet (draft)": "导入表格（草稿）",
    "publish refused": "发布被拒",
    "published": "发布",
    "rolled back": "回滚",
    "discarded draft": "放弃草稿修改",
}
ROLES = {"editor": "编辑员", "publisher": "发布员"}
REPLY_ACTIONS = {"answer": "回答", "clarify": "反问", "fallback": "未能回答"}
UNANSWERED_KINDS = {"fallback": "未能回答", "rejected ask-back": "反问后未选择"}
ERROR_NAMES = {400: "请求有误", 403: "无权操作", 404: "找不到页面", 405: "不支持此操作", 409: "有冲突", 413: "文件太大"}

#: bot.knowledge.editing's refusals (English, shared with the command line) as the console says them.
EDIT_ERRORS = (
    (re.compile(r"no FAQ entry with id '(.+)'"), "没有 id 为“{0}”的问答条目"),
    (re.compile(r"id '(.+)' is already used"), "id“{0}”已被使用，请换一个"),
    (re.compile(r"no FAQ file (.+)"), "没有问答条目文件 {0}"),
    (re.compile(r"the alternate question is empty"), "要添加的问法是空的"),
    (re.compile(r"a new entry needs an id"), "新建条目需要填写 id"),
    (re.compile(r"(\S+) does not parse; fix it by hand first \((.*)\)", re.S), "{0} 无法解析，请先手工改正（{1}）"),
    (re.compile(r"(\S+) has no 'faqs:' list"), "{0} 里没有 'faqs:' 列表"),
)


def label(names: dict[str, str], value: str) -> str:
    """The Chinese name of a stored value; the value itself if it has none."""
    return names.get(value, value)


def edit_error(message: str) -> str:
    """An editing refusal in Chinese; one not listed here is shown as it is."""
    for pattern, chinese in EDIT_ERRORS:
        found = pattern.fullmatch(message)
        if found:
            return chinese.format(*found.groups())
    return message


def error_text(error: HTTPException) -> tuple[str, str]:
    """The error's title and message in Chinese; a message given by the console is already Chinese."""
    title = ERROR_NAMES.get(error.code or 0, "出错了")
    default = type(error).description
    message = error.description if error.description and error.description != default else f"{title}。"
    return title, message


def template_values() -> dict:
    return {
        "audit_label": lambda value: label(AUDIT_ACTIONS, value),
        "role_label": lambda value: label(ROLES, value),
        "kind_label": lambda value: label(UNANSWERED_KINDS, value),
        "reply_label": lambda value: label(REPLY_ACTIONS, value),
    }
