"""Shared fixtures: paths to the repository's example exports and a tiny labelled corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from ._ci import pytest_make_collect_report, pytest_runtest_makereport  # noqa: F401  (hooks: skips fail when CI=true)

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "data" / "examples"


def child_env() -> dict[str, str]:
    """Environment for a child interpreter that imports the same collectclf as these tests.

    Under CI that is the installed package (its site-packages is already on the child's path); in an
    editable install it is this checkout. ``PYTHONSAFEPATH`` keeps ``python -m``/``-c`` children from
    putting their working directory (often this checkout) first on ``sys.path``.
    """
    import os

    import collectclf

    home = str(Path(collectclf.__file__).resolve().parent.parent)
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [home, os.environ.get("PYTHONPATH")])), PYTHONSAFEPATH="1")

TINY = [
    ("您的借款已逾期3天，请通过官方App还款，如有困难可申请分期。", "compliant"),
    ("尊敬的客户，您本期账单将于明日到期，请按时还款，客服热线95000。", "compliant"),
    ("您好，您的分期已逾期一天，请登录App处理，谢谢配合。", "compliant"),
    ("提醒：本月还款日为15日，请确保账户余额充足。", "compliant"),
    ("您的贷款已逾期，请尽快还款，如已还款请忽略。", "compliant"),
    ("今天18点前必须还清，否则移交法务部门起诉。", "pressuring"),
    ("最后通牒，明天我们将上门走访，请准备好欠款。", "pressuring"),
    ("第3次通知，已转交外包机构，将联系你的紧急联系人核实。", "pressuring"),
    ("限你两小时内处理，否则直接走法律程序。", "pressuring"),
    ("再不处理，我们将派人去你单位核实情况。", "pressuring"),
    ("再不还钱就爆你通讯录，让你全家知道你是老赖。", "threatening"),
    ("你女儿在哪个学校我们都知道，出门小心点。", "threatening"),
    ("老赖，后果自负，别怪我们不客气。", "threatening"),
    ("把你欠钱的照片P图发到你们村群里。", "threatening"),
    ("不还钱就抓你坐牢，好自为之。", "threatening"),
    ("加微信私下和解，交2000元撤诉费即可撤案。", "fraudulent"),
    ("校园贷账户未注销将影响征信，请转账手续费到安全账户。", "fraudulent"),
    ("专业停催，清除逾期记录，先交服务费。", "fraudulent"),
    ("法院传票，请点击链接下载App并提供验证码核实身份。", "fraudulent"),
    ("请将欠款转到个人账户6222****1234，收款人王某。", "fraudulent"),
    ("您的验证码是4821，请勿告诉他人。", "unrelated"),
    ("您的快递已到菜鸟驿站，请凭取件码领取。", "unrelated"),
    ("恭喜您获得5万元借款额度，点击领取。", "unrelated"),
    ("晚上一起吃饭吗？", "unrelated"),
    ("记者调查：借款人遭遇暴力催收可以向监管部门投诉。", "unrelated"),
]


@pytest.fixture(scope="session")
def tiny_corpus() -> tuple[list[str], list[str]]:
    return [t for t, _ in TINY], [label for _, label in TINY]


@pytest.fixture(scope="session")
def tiny_model(tiny_corpus):
    from collectclf import Classifier

    texts, labels = tiny_corpus
    return Classifier(calibration_cv=3, min_df=1).fit(texts, labels)


@pytest.fixture(scope="session")
def shipped():
    import collectclf

    return collectclf.load()
