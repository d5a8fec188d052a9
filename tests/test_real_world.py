"""Behaviour on the kinds of real text the written corpus used to get wrong (issue: real-world accuracy).

The messages here are written for these tests; none is taken from a real source.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import collectclf
from collectclf.text import normalize

ROOT = Path(__file__).resolve().parent.parent
LEAK_TOOL = ROOT.parent / "shared" / "tools" / "real_leak_check.py"

#: Genuine reminders that use credit words the way banks and platforms do: all `compliant`.
GENUINE_REMINDERS = [
    "【招商银行】尊敬的客户，您尾号1234的信用卡已逾期，为避免影响您的个人征信记录，请及时还款。详询95555。",
    "【花呗】您本月花呗账单已逾期，逾期将影响您的芝麻信用，请及时还款。",
    "【建设银行】您尾号5521的信用卡账单已过到期还款日，逾期会产生滞纳金并可能影响信用记录，请尽快通过建行手机银行还款。",
    "【借呗】您的借呗本期应还1,268.40元已逾期1天，将按日收取罚息，请尽快在支付宝内还款，以免影响信用。",
    "【京东金融】您的白条账单已逾期2天，逾期信息可能报送征信系统，请登录京东金融App还款。",
    "【中信银行】您尾号0937信用卡本期最低还款额尚未还清，请尽快还款，以免产生滞纳金及影响个人信用记录。客服热线95558。",
    "【微粒贷】您的借款已逾期，请尽快通过微信-微粒贷还款。按合同约定，逾期记录将上报人民银行征信系统。",
    "【美团月付】您的月付账单已逾期3天，请尽快在美团App还款，逾期会影响您的信用评估。",
    "【浦发银行】尊敬的客户，您的信用卡已逾期，逾期将计收违约金，并按规定报送征信，请通过浦大喜奔App还款，如有困难请致电95528。",
    "【平安普惠】您本期借款应还2,315.00元已逾期，请通过平安普惠App还款，如有疑问请拨打客服热线。",
    "【分期乐】您的分期乐账单已逾期，逾期将产生罚息并影响您的信用，请在分期乐App内还款。",
    "【马上消费金融】您的借款已逾期4天，请及时登录安逸花App还款，避免产生更多罚息及不良信用记录。",
    "【招联金融】温馨提示：您的好期贷本期账单已逾期，请尽快通过招联金融App还款，逾期可能影响个人征信。",
    "【工商银行】您尾号7730的贷款本期还款已逾期，请尽快存入足额款项，以免影响您在人民银行征信系统的信用记录。",
    "【交通银行】尊敬的客户，您的信用卡账户已逾期，请尽快还款，逾期会记入个人信用报告。详询95559。",
    "【度小满】您的有钱花借款已逾期1天，请尽快在度小满金融App还款，逾期将产生罚息并可能上报征信。",
    "【广发银行】您的信用卡本期账单已过还款日，请尽快还款，逾期可能影响您的信用记录，已还款请忽略。",
    "【抖音月付】您的月付账单已逾期，逾期将收取逾期费用并可能影响征信，请在抖音App内及时还款。",
    "【中国银行】您的个人消费贷款已逾期2天，请尽快通过手机银行归还欠款，以免影响个人信用记录。",
    "【农业银行】您尾号4412的网捷贷已逾期，逾期将计收罚息，请尽快存足款项。如有困难可致电95599协商。",
    "【360借条】您的借款已逾期，请尽快在360借条App还款，逾期记录可能影响您的征信。",
    "【国家电网】您户号尾号3381的电费已逾期未缴，产生的违约金将计入下期，请通过网上国网App缴纳。",
]

#: The same kind of wording plus one off-channel step: all `fraudulent`.
COPYCAT_SCAMS = [
    "【招商银行】您的信用卡已逾期，为避免影响征信，请将欠款转入专员个人账户6222021234567890123，户名王某。",
    "【花呗】您的花呗已逾期，将影响芝麻信用，请添加客服微信hb-kefu888处理，官方App无法还款。",
    "【京东金融】您的白条逾期记录可申请消除，缴纳300元征信修复费即可删除逾期记录，详询QQ 2938471。",
    "您好，您名下的校园贷账户未注销，将影响个人征信，请下载会议App共享屏幕，由客服协助注销。",
    "【微粒贷】您的借款已逾期，征信即将上报，请点击 http://wld-huankuan.cc 登录处理。",
    "【借呗】检测到您的借呗利率过高需要调整，请告知收到的验证码，客服为您降息并保护征信。",
    "法院通知：您的信用卡欠款已被立案，请速拨13812345678私下和解，缴纳3000元保证金即可撤诉。",
    "【建设银行】您的贷款逾期将上报征信黑名单，请立即将欠款转入安全账户核查，账户由专员提供。",
    "停催专家：专业处理网贷逾期，停止催收，消除征信不良记录，先交服务费1999元，加V详聊。",
    "【美团】您的月付逾期已影响征信，请扫描二维码向财务人员支付宝转账还款，否则将起诉。",
]


@pytest.fixture(scope="module")
def shipped():
    return collectclf.load()


@pytest.mark.parametrize("text", GENUINE_REMINDERS)
def test_genuine_reminders_with_credit_words_are_compliant(shipped, text):
    result = shipped.classify(text)
    assert result.label == "compliant", (result.label, result.scores)


@pytest.mark.parametrize("text", COPYCAT_SCAMS)
def test_reminder_words_with_an_off_channel_step_are_fraudulent(shipped, text):
    result = shipped.classify(text)
    assert result.label == "fraudulent", (result.label, result.scores)


@pytest.mark.parametrize(
    "template",
    [
        "尊敬的{name}，您的借款{amount}元已逾期{days}天，请登录{app}还款。",
        "尊敬的%s，您的借款%s元已逾期%d天，请登录%s还款。",
        "尊敬的${userName}，您的借款${amount}元已逾期${days}天，请登录${appName}还款。",
        "尊敬的{{name}}，您的借款{{amount}}元已逾期{{days}}天，请登录{{app}}还款。",
        "尊敬的#name#，您的借款#repay_money#元已逾期#days#天，请登录#app#还款。",
        "尊敬的{0}，您的借款{1}元已逾期{2}天，请登录{3}还款。",
        "尊敬的%1，您的借款%2元已逾期%3天，请登录%4还款。",
        "尊敬的[姓名]，您的借款【贷款编号】已逾期，请登录$app$还款。",
    ],
)
def test_every_placeholder_style_becomes_one_slot_and_never_evidence(shipped, template):
    normalized = normalize(template)
    assert "<slot>" in normalized
    for piece in ("{", "}", "%s", "$", "#", "name", "amount", "[", "【"):
        assert piece not in normalized, piece
    result = shipped.classify(template)
    assert result.label == "compliant", (result.label, result.scores)
    for item in result.evidence:
        assert not any(ch in item.text for ch in "{}%$#[]【】"), item
        assert "name" not in item.text and "amount" not in item.text, item


def test_evidence_is_never_a_single_character_or_punctuation(shipped):
    texts = GENUINE_REMINDERS + COPYCAT_SCAMS + ["再不还钱就爆你通讯录，让你全家都知道你是老赖！！！", "今天17点前必须还清，否则上门。"]
    for result in shipped.classify(texts):
        for item in result.evidence:
            meaningful = [ch for ch in item.text if ch.isalnum()]
            assert len(meaningful) >= 2, item


@pytest.mark.parametrize(
    "plain",
    ["您的借款已逾期3天，请拨打13812345678联系客服", "点击https://a.example.cn/x处理您的逾期账单", "再不还钱就爆你通讯录"],
)
def test_fully_spaced_text_folds_back_digits_letters_and_all(plain):
    spaced = " ".join(plain)
    assert normalize(spaced) == normalize(plain)


def test_fully_spaced_messages_keep_their_label(shipped):
    texts = GENUINE_REMINDERS[:6] + COPYCAT_SCAMS[:4]
    assert shipped.predict([" ".join(t) for t in texts]).tolist() == shipped.predict(texts).tolist()


def test_ordinary_spacing_between_words_is_kept():
    assert normalize("hello world") == "hello world"
    assert normalize("请 在 今天 还款 谢谢") == "请在今天还款谢谢"  # spaces between Chinese characters always went


@pytest.mark.skipif(not LEAK_TOOL.is_file(), reason="../shared/tools is not beside this checkout")
def test_no_real_corpus_text_in_tracked_files():
    """Real messages are other people's text: none may sit in a tracked file (exact or near-duplicate)."""
    run = subprocess.run([sys.executable, str(LEAK_TOOL), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-2000:]
    assert run.stdout.startswith("0 place(s)"), run.stdout[-2000:]


def test_corpus_build_counts_written_lines_close_to_real_messages():
    """data/build_corpus.py fails on written lines equal to, or near-duplicates of, a real message and only
    counts lines that contain a short one (the texts here are invented stand-ins for real messages)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_corpus", ROOT / "data" / "build_corpus.py")
    build_corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_corpus)
    stand_ins = ["今晚八点楼下等你", "您的包裹已到达驿站请凭取件码领取商品谢谢"]
    rows = [{"text": text} for text in (
        "今晚八点，楼下等你！",                               # equal once punctuation is removed
        "您的包裹已到达驿站请凭取件码领取商品谢谢您",           # a 5-gram near-duplicate
        "欠的三千不还的话今晚八点楼下等你自己看着办",           # contains a short one: counted, not an error
        "您的借款已逾期三天请及时还款",                        # unrelated to both
    )]
    assert build_corpus.real_closeness(stand_ins, rows) == {"equal": 1, "near": 1, "contains": 1}
    assert build_corpus.real_closeness(stand_ins, []) == {"equal": 0, "near": 0, "contains": 0}
