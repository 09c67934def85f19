from bot.matching.segment import Segmenter


def test_user_dictionary_keeps_domain_words_whole(kb):
    words = Segmenter(kb.lexicon).cut("医保电子凭证怎么添加亲情账户")
    assert "医保电子凭证" in words
    assert "亲情账户" in words


def test_words_only_the_synonym_table_knows_stay_whole(matcher):
    assert "还剩多少钱" in matcher.analyzer.segmenter.cut("我爸医保卡里还剩多少钱")


def test_one_tokenizer_does_not_change_another(kb, matcher):
    """Each knowledge base gets its own jieba.Tokenizer, so a reload never leaks words."""
    import jieba

    assert "亲情账户" not in jieba.lcut("亲情账户", HMM=False)
    assert "亲情账户" in matcher.analyzer.segmenter.cut("亲情账户")
