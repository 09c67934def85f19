import logging
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import create_app
from bot import Incoming
from bot.privacy import mask, user_hash
from bot.storage import open_db


def test_id_phone_and_bank_card_numbers_are_masked():
    text = "我身份证110101199003071234手机13812345678卡号6222 0212 3456 7890 123怎么共济"
    masked = mask(text)
    assert "110101199003071234" not in masked and "[id-number]" in masked
    assert "13812345678" not in masked and "[phone]" in masked
    assert "6222" not in masked and "[bank-card]" in masked
    assert masked.endswith("怎么共济")


@pytest.mark.parametrize(
    ("written", "label"),
    [
        ("13800138000", "[phone]"),
        ("138.0013.8000", "[phone]"),
        ("138-0013-8000", "[phone]"),
        ("138 0013 8000", "[phone]"),
        ("1 3 8 0 0 1 3 8 0 0 0", "[phone]"),
        ("１３８００１３８０００", "[phone]"),
        ("１３８　００１３　８０００", "[phone]"),
        ("138．0013．8000", "[phone]"),
        ("+86 138 0013 8000", "[phone]"),
        ("+8613800138000", "[phone]"),
        ("138,0013,8000", "[phone]"),
        ("110101199003071234", "[id-number]"),
        ("11010119900307123X", "[id-number]"),
        ("11010119900307123x", "[id-number]"),
        ("110101 19900307 123X", "[id-number]"),
        ("１１０１０１１９９００３０７１２３Ｘ", "[id-number]"),
        ("110101900307123", "[id-number]"),
        ("110 101 900 307 123", "[id-number]"),
        ("6222021234567890123", "[bank-card]"),
        ("6222 0212 3456 7890", "[bank-card]"),
        ("6222-0212-3456-7890-123", "[bank-card]"),
    ],
)
def test_every_way_of_writing_a_personal_number_is_masked(written, label):
    assert mask(f"我的号码{written}，怎么办共济") == f"我的号码{label}，怎么办共济"


def test_two_numbers_written_together_are_masked_together():
    assert mask("13800138000 110101199003071234") == "[number]"


def test_id_number_ending_in_x_is_masked():
    assert mask("11010119900307123X") == "[id-number]"


@pytest.mark.parametrize(
    "text", ["最多绑5个人，余额1000元", "2024-01-01办的", "余额1,000.50元", "共济X", "打12393", "第2步"]
)
def test_short_numbers_are_left_alone(text):
    assert mask(text) == text


def _id_number(body: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


PERSONAL_NUMBERS = st.one_of(
    st.tuples(st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9)).map(
        lambda t: "1" + "".join(t)
    ),
    st.text("0123456789", min_size=17, max_size=17).map(_id_number),
    st.text("0123456789", min_size=15, max_size=15),
    st.text("0123456789", min_size=16, max_size=19),
)
SEPARATORS = st.sampled_from(["", "", "", " ", "  ", "-", ".", "．", "\u3000", " - ", "，", "/"])
FULL_WIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")


@st.composite
def written_numbers(draw) -> str:
    """A valid personal number as a person might type it: any separators, any mix of widths."""
    number = draw(PERSONAL_NUMBERS)
    chars = [c.translate(FULL_WIDTH) if draw(st.booleans()) else c for c in number]
    return chars[0] + "".join(draw(SEPARATORS) + c for c in chars[1:])


@given(
    before=st.text("我的身份证手机号卡是怎么办共济亲情账户？，。 ", max_size=12),
    number=written_numbers(),
    after=st.text("我的身份证手机号卡是怎么办共济亲情账户？，。 ", max_size=12),
)
def test_no_digit_of_a_personal_number_survives_masking(before, number, after):
    masked = mask(before + number + after)
    assert not any(c.isdigit() for c in masked), masked


def test_user_hash_is_stable_salted_and_not_the_id():
    assert user_hash("s1", "wechat", "openid-1") == user_hash("s1", "wechat", "openid-1")
    assert user_hash("s1", "wechat", "openid-1") != user_hash("s2", "wechat", "openid-1")
    assert "openid" not in user_hash("s1", "wechat", "openid-1")


class Remember(logging.Handler):
    """Every log line of the app, formatted, for the test to search."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def bot_with_log(tmp_path_factory):
    app = create_app(
        {"DATABASE": str(tmp_path_factory.mktemp("privacy") / "bot.sqlite"), "KNOWLEDGE_RELOAD_SECONDS": 0}
    )
    handler = Remember()
    logging.getLogger().addHandler(handler)
    yield app, handler
    logging.getLogger().removeHandler(handler)


@settings(max_examples=25, deadline=None, database=None)
@given(number=written_numbers(), fallback=st.booleans())
def test_a_personal_number_never_reaches_storage_or_a_log(bot_with_log, number, fallback):
    app, log = bot_with_log
    text = ("红烧肉怎么做，我的号码" if fallback else "家庭共济怎么开通，我的号码") + number
    app.extensions["bot"].respond(Incoming("wechat", "o_privacy", text=text, message_id=str(hash(text))))
    db = open_db(app.config["DATABASE"])
    stored = [row[0] for table in ("turns", "unanswered") for row in db.execute(f"SELECT question FROM {table}")]
    stored += [row[0] for row in db.execute("SELECT COALESCE(reply, '') FROM processed_messages")]
    stored += [row[0] for row in db.execute("SELECT state FROM sessions")]
    for place in stored + log.lines:
        assert digits_of(number) not in digits_of(place), place


def digits_of(text: str) -> str:
    """The digits in `text`, in ASCII whatever their width: a number however it was written or stored."""
    return "".join(str(unicodedata.digit(c)) for c in text if c.isdigit() and unicodedata.digit(c, None) is not None)
