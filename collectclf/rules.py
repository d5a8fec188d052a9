"""Red-flag rules: named patterns over NORMALISED text, each tied to a label and a source.

A rule is an indicator feature for the model and a line of evidence for the user; it never
decides a label on its own. Patterns run on the output of :func:`collectclf.text.normalize`
(simplified, lower case, digits masked as ``<num>``, ``<phone>``, ``<money>`` …), so they do not
need to spell out traditional characters, full-width forms or separator tricks.

Each rule's ``cites`` names its sources by code (``GUIDE §threatening; CL293``); :data:`CITATIONS`
says what every code means (``docs/citations.md`` shows the same legend, and so does the report).
:data:`THIRD_PARTY_ADDRESS` is the word list of phrases that show a message is addressed to someone
other than the debtor: the rule ``third_party_contact`` matches them, and the report counts them.
"""

from __future__ import annotations

import functools
import re
import re._constants as _c
import re._parser as _parser
from dataclasses import dataclass
from typing import Any

__all__ = ["CITATIONS", "RULES", "THIRD_PARTY_ADDRESS", "Rule", "RuleHit", "cited_codes", "find_rule_hits"]


@dataclass(frozen=True)
class Rule:
    """One red flag: ``id``, the label it supports, what it means, the source it reflects."""

    id: str
    label: str
    description: str
    cites: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class RuleHit:
    """A rule that fired, with the span of the normalised text that matched."""

    rule: Rule
    start: int
    end: int


#: What each source code in a rule's ``cites`` means, one line each (the legend of docs/citations.md
#: and of the report). A ``cites`` string is codes separated by ``;``, each optionally followed by
#: the part it refers to (``GUIDE §fraudulent (paid services)``).
CITATIONS: dict[str, str] = {
    "GUIDE": "the collectclf labeling guide (docs/labeling-guide.md); what follows the code names its section: "
             "§ and a label (§threatening), Boundaries, or 'What real messages look like'",
    "CL293": "《中华人民共和国刑法》第二百九十三条之一 催收非法债务罪: Criminal Law of the PRC, Article 293-1, the crime of "
             "collecting illegal debts by violence or coercion, by restricting freedom or entering homes, or by intimidation "
             "(恐吓), stalking (跟踪) or harassment (骚扰)",
    "SOFT": "《关于办理实施\"软暴力\"的刑事案件若干问题的意见》(2019): the opinions of the Supreme People's Court, the Supreme "
            "People's Procuratorate, the Ministry of Public Security and the Ministry of Justice on criminal cases of "
            "\"soft violence\" (harassment, stalking, intimidation and other pressure short of physical force)",
    "NIFA": "中国互联网金融协会 催收自律公约: the National Internet Finance Association of China's self-discipline convention "
            "on collection, which bans 暴力、恐吓、侮辱、诽谤、骚扰 and disclosing the debt to third parties",
    "AFL": "《中华人民共和国反电信网络诈骗法》(2022): the Anti-Telecom and Online Fraud Law of the PRC",
}

_CODE = re.compile(r"[A-Z][A-Z0-9]*")


def cited_codes(cites: str) -> list[str]:
    """The source codes of a ``cites`` string, in order: the first word of each ``;``-separated part.

    >>> cited_codes("GUIDE §threatening; NIFA; SOFT (跟踪)")
    ['GUIDE', 'NIFA', 'SOFT']
    """
    codes = []
    for part in cites.split(";"):
        match = _CODE.match(part.strip())
        codes.append(match.group(0) if match else part.strip())
    return codes


#: Phrases (regular expressions on normalised text) that show a message is addressed to someone
#: other than the debtor: "please pass this on", "you, as X's emergency contact", the debtor named
#: in the third person. Part of the rule ``third_party_contact``; the report's third-party check
#: counts that rule's matches only when they contain one of these.
THIRD_PARTY_ADDRESS: tuple[str, ...] = (
    r"作为.{0,10}(紧急联系人|联系人|担保人)",  # 您作为张三的紧急联系人 (you, as X's emergency contact)
    r"(请|麻烦)(您|你)?(转告|转达|告知|通知|提醒|督促|劝)(他|她|其|本人|对方)",  # please tell him / her
    r"(他|她)(在|于)(我司|我方|我行|本平台|我们平台|我们公司|我公司)",  # the debtor in the third person
    r"联系不上(他|她)|(他|她)(的)?(电话|手机)(打不通|关机|不接|无人接听)",  # "we cannot reach him"
    r"请转告|转告(他|她)",
)
_ADDRESSED = "(?:" + "|".join(THIRD_PARTY_ADDRESS) + ")"


def _rule(rule_id: str, label: str, description: str, cites: str, pattern: str) -> Rule:
    return Rule(rule_id, label, description, cites, re.compile(pattern))


_ANY = r".{0,12}"
RULES: tuple[Rule, ...] = (
    # ------------------------------------------------------------------ fraudulent
    _rule("personal_account", "fraudulent", "payment to a personal/private account or a 'safe account'",
          "GUIDE §fraudulent; AFL",
          r"(个人|私人|指定|专员|对接人|财务人员)(的)?(账户|账号|银行卡|卡号|微信|支付宝)|安全账户|监管账户|核查账户"
          r"|收款人[:：]?|(微信|支付宝|wx|vx|zfb)" + _ANY + r"(转账|转给|收款|付款|扫码)|扫码(还款|支付|转账)|(加|添加)(我)?(微信|vx|wx|qq)"),
    _rule("credit_repair_fee", "fraudulent", "a fee to erase overdue records, repair credit or cancel a student account",
          "GUIDE §fraudulent; AFL",
          r"(清除|消除|删除|修复|洗白|撤销|消掉)" + _ANY + r"(征信|逾期|不良|记录)|征信修复|(注销|关闭)" + _ANY
          + r"(校园贷|学生|账户|账号|额度)"),
    _rule("debt_relief_service", "fraudulent", "a paid service to stop collection or restructure debt",
          "GUIDE §fraudulent (paid services)",
          r"停催|反催收|债务(重组|优化|规划|处理|协商)|停息挂账|代(协商|谈判|处理)|延期还款代办|法务协商团队|协商还款(服务|代办)"),
    _rule("release_fee", "fraudulent", "a fee, deposit or 'unfreezing' payment demanded before release or settlement",
          "GUIDE §fraudulent; AFL",
          r"解冻费|保证金|验资|撤诉费|和解费|手续费|工本费|服务费|公证费|认证费|激活费|刷流水|解冻金"),
    _rule("fake_legal_notice", "fraudulent", "an arrest warrant, freezing order or 'settle privately' offer",
          "GUIDE §fraudulent",
          r"逮捕令|通缉令|冻结令|拘捕令|协查通报|资产冻结|私下(和解|处理|协商|解决)|撤销(立案|案件|诉讼)"),
    _rule("credential_request", "fraudulent", "asks for a code or password, screen sharing, or an app from a link",
          "GUIDE §fraudulent; AFL",
          r"(提供|告知|告诉|发送|报给|说出|回复|发给|念)(?!他人)" + r".{0,8}(验证码|密码)|屏幕共享|共享屏幕|会议(号|室)"
          r"|(下载|安装)" + _ANY + r"(app|软件|客户端|<url>)"),
    _rule("link", "fraudulent", "a link to open (an off-channel step when money is asked)",
          "GUIDE §fraudulent; GUIDE 'What real messages look like'", r"<url>"),
    # ------------------------------------------------------------------ threatening
    _rule("violence", "threatening", "threat of physical harm to the person, family or property",
          "GUIDE §threatening; CL293",
          r"砍|打断|弄死|整死|打死|杀了|泼(油)?漆|放火|烧(了|掉)|卸(你)?(一条)?(腿|胳膊)|废了你|断(手|腿)|收拾你|揍你|见血|刀"),
    _rule("veiled_menace", "threatening", "veiled menace ('后果自负', 'watch your back')",
          "GUIDE Boundaries; SOFT",
          r"后果自负|好自为之|别怪" + _ANY + r"(不客气|无情|翻脸)|出门小心|小心(点|一点)|走着瞧|等着瞧|意料之外|意想不到|有你好看"
          r"|有你受的|兜着走|日子不好过|不得安宁|你等着|等着吧"),
    _rule("insult", "threatening", "insult or abuse",
          "GUIDE §threatening; NIFA",
          r"老赖|骗子|不要脸|畜生|人渣|废物|垃圾|傻[逼比b]|\bsb\b|死全家|你妈|他妈|tmd|\bnmsl\b|王八|贱人|滚|无耻|臭不要脸"),
    _rule("exposure", "threatening", "threat to expose the debt to contacts, employer or the public",
          "GUIDE §threatening; NIFA; SOFT",
          r"爆" + _ANY + r"通讯录|(发|群发|打|通知)(到|给|遍)?" + _ANY + r"通讯录|通讯录" + _ANY + r"(发|通知|告诉|群发|打)|群发|朋友圈|抖音|大字报|横幅|p图|曝光|公之于众|贴" + _ANY
          + r"(小区|村|单位|公司|门口)|传单|全村|街坊|邻居|亲朋好友都知道|让所有人知道"),
    _rule("family_target", "threatening", "names where the family or children live or study",
          "GUIDE §threatening; SOFT (跟踪)",
          r"(孩子|女儿|儿子|老婆|老公|父母|爸妈|家人|小孩)" + _ANY + r"(学校|上学|幼儿园|小学|中学|住哪|安全)|知道你(家|住)|你家(住|在)"
          r"|拍(了)?(你)?家|在你家(楼下|门口)"),
    _rule("false_arrest", "threatening", "jail or arrest threatened for a civil debt",
          "GUIDE §threatening",
          r"抓你|抓人|坐牢|判刑|拘留|逮捕|刑事责任|刑拘|诈骗罪|公安(已|已经)?立案|派出所|进去蹲|吃牢饭|判你"
          r"|人身自由|(移送|移交|报送)" + _ANY + r"公安|经侦|刑事(案件|立案|追责)|立案侦查|追逃"),
    _rule("third_party_disclosure", "threatening", "tells a third party about the debt",
          "GUIDE Boundaries; NIFA",
          r"(你|您)(的)?(朋友|好友|亲友|同事|亲戚|儿子|女儿|弟弟|哥哥|妹妹|姐姐|老公|老婆|员工|职工|家人|下属|父亲|母亲|联系人)" + _ANY
          + r"(欠|逾期|不还|老赖|借了)|(帮|替)(他|她)(还|还款|还钱)|(作为|是)" + _ANY + r"(紧急联系人|担保人)" + _ANY + r"(还|责任)"
          r"|贵(单位|公司|校)(的)?(员工|职工|学生|同事)" + _ANY + r"(债务|欠款|欠钱|逾期|借款)"),
    # ------------------------------------------------------------------ pressuring
    _rule("hard_deadline", "pressuring", "a hard deadline or ultimatum",
          "GUIDE §pressuring",
          r"(今天|今日|当天|明天)" + r".{0,8}(前|之前|内)|<num>(点|小时)(前|之前|内)|限你|最后通牒|最后期限|最后一次|必须" + _ANY
          + r"(还清|结清|处理|还款)|否则|务必"),
    _rule("escalation", "pressuring", "escalation: legal department, outsourcing, lawsuit",
          "GUIDE §pressuring",
          r"移交|转交|法务|委外|外包|风控部|起诉|诉讼|律师函|仲裁|法律程序|司法程序|诉前调解|资产管理公司|法律途径"),
    _rule("third_party_contact", "pressuring", "announced contact with family, contacts or employer, or a message addressed to them",
          "GUIDE §pressuring",
          # an announcement ("we will contact your family") never runs over a phrase addressed to the third party, so
          # the report can tell the two apart; the rule fires on the same texts as with a plain .{0,12}
          r"(紧急联系人|联系人|家人|家属|单位|公司|领导|同事|亲友|人事|hr)(?:(?!" + _ADDRESSED + r").){0,12}"
          r"(联系|核实|通知|协助|沟通|转告)|" + _ADDRESSED),
    _rule("visit", "pressuring", "announced home or workplace visit",
          "GUIDE §pressuring",
          r"上门|外访|走访|实地|拜访|前往" + _ANY + r"(单位|家|住所|户籍|公司)"),
    _rule("exaggerated_consequence", "pressuring", "exaggerated consequences for schooling, travel or the family",
          "GUIDE §pressuring",
          r"子女" + _ANY + r"(上学|入学|考公|政审|前途)|考公|政审|限制高消费|限高|高铁|飞机|影响全家|失信|黑名单"),
    _rule("repetition", "pressuring", "repeated notices and urgency",
          "GUIDE §pressuring (bombardment)", r"第<num>次|再次|多次|反复|一再|屡次|!{2,}"),
    # ------------------------------------------------------------------ compliant
    _rule("official_channel", "compliant", "repayment through the creditor's own channel",
          "GUIDE §compliant",
          r"官方|app内|客户端|对公|官网|公众号|自动扣(款|还)|还款账户|我的-|手机银行|网上银行"),
    _rule("hardship_offer", "compliant", "an offer to talk about instalments or hardship",
          "GUIDE §compliant",
          r"(申请|办理|协商)" + _ANY + r"(分期|延期|展期|减免)|如有困难|经济困难|还款困难"),
    _rule("service_contact", "compliant", "a customer-service line or 'ignore if paid'",
          "GUIDE §compliant",
          r"客服|热线|如有疑问|如有异议|请忽略|已还款.{0,6}忽略|致电"),
    # ------------------------------------------------------------------ unrelated
    _rule("repayment_receipt", "unrelated", "a repayment, payment or disbursement confirmed (a receipt asks for nothing)",
          "GUIDE Boundaries (repayment confirmation)",
          # a receipt, not a promise, a failure or a condition: "扣款成功后将短信告知", "未能扣款成功", "如已还清请忽略"
          r"(?<![未没能至到有])((还款|扣款|缴费|支付|付款|放款|代扣|入账|结清)成功|成功(还款|扣款|缴费|支付|放款))(?!后|之后|时)"
          r"|(?<![如若])已(全额|足额|按时)?(还清|结清|缴清|入账|到账)|已(全额|足额)(还款|缴纳|支付)|已(发放|放款|打款)(至|到)"
          r"|感谢(您|你)(的|已|本月|本期)?(按时|及时)?(还款|缴纳|缴费|支付)"),
    _rule("verification_code", "unrelated", "a one-time code notice",
          "GUIDE §unrelated", r"验证码(是|为|:)?<num>|(切勿|请勿|不要)" + _ANY + r"(告知|泄露|转发|告诉)"),
    _rule("about_collection", "unrelated", "reporting or advice ABOUT collection",
          "GUIDE §unrelated (news or advice)",
          r"记者|报道|新闻|网友|据悉|投诉|维权|专家|如何|怎么办|律师表示|调查|据了解|遭遇|警方提醒|提醒广大"),
    _rule("loan_advert", "unrelated", "loan advertising",
          "GUIDE §unrelated (loan advertising)",
          r"额度(已)?(提升|提高|到账)|提额|最高可借|低息|日息|秒到|恭喜" + _ANY + r"(获得|获)|领取" + _ANY + r"额度|借款额度"),
)


def find_rule_hits(normalized_text: str) -> list[RuleHit]:
    """All rule matches in a normalised text, in rule order, each with its span."""
    return list(_rule_hits(normalized_text))


# --------------------------------------------------------------------------- prefilter
# Characters so common that a prefilter built on them would rarely skip anything.
_COMMON = set("的一是不了人我在有他这中大来上个国到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都"
              "然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实"
              "回二理美点月明其种全工己话者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次再真信少关内加化由却代入先"
              "五万市体别处总才场比住员九性通目报立命件安表原白应路期常提金何更反合做系计或司利受果亲及今务制解各任至清物记共干接许特"
              "直服题度统字请失款您贷借钱逾账户元号")


def _required(items: Any, *, strings: bool = False) -> set[str] | None:
    """Characters (``strings``: strings) of which every match of a parsed pattern sequence contains at
    least one (None: unknown).

    Of a sequence's mandatory elements the least likely set is taken; a branch needs one of its
    alternatives' sets; optional, negated, wildcard and zero-width elements give None. With
    ``strings``, a run of consecutive literal characters counts as one string (联系人 rather than 联),
    so far fewer texts pass.
    """
    candidates: list[set[str]] = []
    run = ""
    for op, arg in items:
        if op is _c.LITERAL and strings:
            run += chr(arg)
            continue
        if run:
            candidates.append({run})
            run = ""
        found: set[str] | None = None
        if op is _c.LITERAL:
            found = {chr(arg)}
        elif op is _c.IN:
            chars: set[str] = set()
            for kind, value in arg:
                if kind is _c.LITERAL:
                    chars.add(chr(value))
                elif kind is _c.RANGE and value[1] - value[0] <= 64:
                    chars.update(chr(code) for code in range(value[0], value[1] + 1))
                else:
                    chars = set()
                    break
            found = chars or None
        elif op is _c.SUBPATTERN:
            found = _required(arg[-1], strings=strings)
        elif op is _c.ATOMIC_GROUP:
            found = _required(arg, strings=strings)
        elif op is _c.BRANCH:
            union: set[str] = set()
            for branch in arg[1]:
                part = _required(branch, strings=strings)
                if part is None:
                    union = set()
                    break
                union |= part
            found = union or None
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT) and arg[0] >= 1:
            found = _required(arg[2], strings=strings)
        if found:
            candidates.append(found)
    if run:
        candidates.append({run})
    return min(candidates, key=_string_cost if strings else _cost) if candidates else None


def _cost(chars: set[str]) -> float:
    return sum(1.0 if ch in _COMMON else 0.02 for ch in chars)


def _prefilter(pattern: re.Pattern[str]) -> re.Pattern[str] | None:
    """A one-character-class search that must succeed for ``pattern`` to match (None: always run it)."""
    if pattern.flags & re.IGNORECASE:
        return None
    chars = _required(_parser.parse(pattern.pattern, pattern.flags & ~re.UNICODE))
    return re.compile("[" + "".join(re.escape(ch) for ch in sorted(chars)) + "]") if chars else None


_PREFILTERS: tuple[re.Pattern[str] | None, ...] = tuple(_prefilter(rule.pattern) for rule in RULES)


def _string_cost(strings: set[str]) -> float:
    """How likely a text holds one of ``strings`` (a rough guess: common characters, short strings)."""
    total = 0.0
    for string in strings:
        chance = 0.3 ** (len(string) - 1)
        for ch in string:
            chance *= 1.0 if ch in _COMMON else 0.05
        total += chance
    return total


def _literal_prefilter(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which must occur for ``pattern`` to match (None: always run it)."""
    if pattern.flags & re.IGNORECASE:
        return None
    found = _required(_parser.parse(pattern.pattern, pattern.flags & ~re.UNICODE), strings=True)
    return frozenset(found) if found else None


_LITERALS: tuple[frozenset[str] | None, ...] = tuple(_literal_prefilter(rule.pattern) for rule in RULES)
_UNFILTERED = frozenset(i for i, strings in enumerate(_LITERALS) if strings is None)


@functools.lru_cache(maxsize=1)
def _literal_matcher() -> Any:
    """One Aho-Corasick automaton over every rule's required strings: string → the rules needing it
    (None without ``pyahocorasick``: then only the character prefilters apply)."""
    try:
        import ahocorasick
    except ImportError:
        return None
    needed: dict[str, list[int]] = {}
    for index, strings in enumerate(_LITERALS):
        for string in strings or ():
            needed.setdefault(string, []).append(index)
    automaton = ahocorasick.Automaton()
    for string, rules in needed.items():
        automaton.add_word(string, tuple(rules))
    automaton.make_automaton()
    return automaton


def _possible_rules(normalized_text: str) -> set[int] | None:
    """Indices of the rules whose required strings occur in the text (None: no matcher, all may)."""
    automaton = _literal_matcher()
    if automaton is None:
        return None
    possible = set(_UNFILTERED)
    for _, rules in automaton.iter(normalized_text):
        possible.update(rules)
    return possible


@functools.lru_cache(maxsize=8192)
def _rule_hits(normalized_text: str) -> tuple[RuleHit, ...]:
    """Memoised matches: features and evidence of the same batch ask for the same texts. A rule whose
    required strings (one Aho-Corasick pass for all rules) or prefilter characters are absent cannot
    match and is not run (a test checks both ways agree)."""
    hits: list[RuleHit] = []
    possible = _possible_rules(normalized_text)
    for index, (rule, prefilter) in enumerate(zip(RULES, _PREFILTERS)):
        if possible is not None and index not in possible:
            continue
        if prefilter is not None and prefilter.search(normalized_text) is None:
            continue
        for match in rule.pattern.finditer(normalized_text):
            if match.end() > match.start():
                hits.append(RuleHit(rule, match.start(), match.end()))
    return tuple(hits)
