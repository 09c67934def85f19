from bot.privacy import mask, user_hash


def test_id_phone_and_bank_card_numbers_are_masked():
    text = "我身份证110101199003071234手机13812345678卡号6222 0212 3456 7890 123怎么共济"
    masked = mask(text)
    assert "110101199003071234" not in masked and "[id-number]" in masked
    assert "13812345678" not in masked and "[phone]" in masked
    assert "6222" not in masked and "[bank-card]" in masked
    assert masked.endswith("怎么共济")


def test_id_number_ending_in_x_is_masked():
    assert mask("11010119900307123X") == "[id-number]"


def test_short_numbers_are_left_alone():
    assert mask("最多绑5个人，余额1000元") == "最多绑5个人，余额1000元"


def test_user_hash_is_stable_salted_and_not_the_id():
    assert user_hash("s1", "wechat", "openid-1") == user_hash("s1", "wechat", "openid-1")
    assert user_hash("s1", "wechat", "openid-1") != user_hash("s2", "wechat", "openid-1")
    assert "openid" not in user_hash("s1", "wechat", "openid-1")
