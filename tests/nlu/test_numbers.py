"""Numeric entities from worker messages: what the bot would read back to the worker.

Development phrases only; the held-out measurement set lives elsewhere. "Today" is
2026-11-25 throughout, so relative dates have fixed answers.
"""
from __future__ import annotations

import random
import time
from datetime import date
from typing import Any

import pytest

from bot.nlu.numbers import Found, extract_numbers

TODAY = date(2026, 11, 25)
Expected = list[tuple[str, Any]]

DURATIONS: list[tuple[str, Expected]] = [
    ("我在这家厂干了三年半，月薪六千，被辞退了", [("duration", 42), ("money", 6000)]),
    ("在公司做了一年零两个月，老板突然不让来了", [("duration", 14)]),
    ("干了18个月都没签劳动合同", [("duration", 18)]),
    ("我才干了半年就被开除了", [("duration", 6)]),
    ("做了两年多了，社保一直没交", [("duration", 24)]),
    ("在工地干了十来年", [("duration", 120)]),
    ("工作3年了能拿多少补偿", [("duration", 36)]),
    ("入职1.5年，公司要裁员", [("duration", 18)]),
    ("我做了八个半月，试用期早过了", [("duration", 8.5)]),
    ("满一年了能不能休年假", [("duration", 12)]),
    ("干了大半年了还没转正", []),
    ("在厂里做了十几年了", []),
    ("试用期三个月，到期不给转正", [("duration", 3)]),
    ("合同签了三年，还没到期就让我走", [("duration", 36)]),
    ("我在这干了２年，公司倒闭了", [("duration", 24)]),
    ("做了5年零3个月", [("duration", 63)]),
    ("一年两个月没发工资了", [("duration", 14)]),
    ("干了一个多月就被辞了", [("duration", 1)]),
    ("我在这家公司二十多年了", [("duration", 240)]),
    ("干了俩月，一分钱没拿到", [("duration", 2)]),
    ("做了好几个月了，工资一直拖", []),
    ("干了两三年了", []),
    ("才干了半个月", [("duration", 0.5)]),
    ("工作了一年半，老板说不给赔偿", [("duration", 18)]),
    ("快四年了一直没给交社保", [("duration", 48)]),
    ("试用期能定6个月吗", [("duration", 6)]),
    ("我35岁，干了12年", [("duration", 144)]),
    ("三年级的孩子没人带", []),
    ("上半年一直加班", []),
    ("这两年厂里效益不好", []),
    ("招的是干了3到5年的老员工", [("duration", 36), ("duration", 60)]),
    ("每两个月发一次工资", []),
    ("第三个月开始就不发工资了", []),
    ("八十年代进厂的老师傅", []),
    ("干了24年，厂子说关就关", [("duration", 288)]),
    ("不到一年被辞退有没有补偿", [("duration", 12)]),
    ("劳务派遣干了2年3个月", [("duration", 27)]),
    ("我在这个厂做了整整五年", [("duration", 60)]),
    ("做了将近两年，老板一直不签合同", [("duration", 24)]),
    ("干了七八年了", []),
    ("累计工作已满1年不满10年的，年休假5天", [("duration", 12), ("duration", 120)]),
    ("一年到头没休息过一天", []),
    ("一年能休几天年假", []),                       # per year, not one year of service
    ("一个月可以请几天假", []),
    ("干了一年能休几天年假", [("duration", 12)]),    # the worker's own year first
    ("小孩才8个月大，公司让我走", []),
    ("干了 3 年", [("duration", 36)]),
    ("我在那里做了2个半月", [("duration", 2.5)]),
    ("合同期3年，试用期6个月", [("duration", 36), ("duration", 6)]),
]

MONEY: list[tuple[str, Expected]] = [
    ("八千块一个月，加班费另算", [("money", 8000)]),
    ("月薪6k，税后到手五千多", [("money", 6000), ("money", 5000)]),
    ("工资1.2万，拖了两个月", [("money", 12000), ("duration", 2)]),
    ("说好的一万二，只给了一万", [("money", 12000), ("money", 10000)]),
    ("底薪一万五千加提成", [("money", 15000)]),
    ("一个月七千五，包吃住", [("money", 7500)]),
    ("工资6千5，扣了社保就剩5千多", [("money", 6500), ("money", 5000)]),
    ("税前七千，税后多少", [("money", 7000)]),
    ("月薪6000，干了一年", [("money", 6000), ("duration", 12)]),
    ("工资8000多，加班没有加班费", [("money", 8000)]),
    ("欠了我5000元工资", [("money", 5000)]),
    ("项目奖金3w一直不给", [("money", 30000)]),
    ("还欠我两千八百块钱", [("money", 2800)]),
    ("老板转了¥4500给我", [("money", 4500)]),
    ("老板转了￥4500给我", [("money", 4500)]),
    ("我工资4500，加班费怎么算", [("money", 4500)]),
    ("押金交了500", [("money", 500)]),
    ("迟到一次罚款200块", [("money", 200)]),
    ("一天200，干了半个月", [("money", 200), ("duration", 0.5)]),
    ("时薪18块，比最低标准还低", [("money", 18)]),
    ("工资三千到四千", [("money", 3000), ("money", 4000)]),
    ("招聘写的工资3000-4000元", [("money", 3000), ("money", 4000)]),
    ("面试说3-4k", [("money", 3000), ("money", 4000)]),
    ("拖欠工资共计15000元", [("money", 15000)]),
    ("补偿金给了N+1，大概两万多", [("money", 20000)]),
    ("每个月就三千来块", [("money", 3000)]),
    ("拿了10,000元的赔偿", [("money", 10000)]),
    ("五六千一个月，不包住", []),
    ("一万块钱的押金要不回来", [("money", 10000)]),
    ("计件5块5一件", [("money", 5.5)]),
    ("一块五一件，太少了", [("money", 1.5)]),
    ("最低工资标准2490元", [("money", 2490)]),
    ("拿到手只有3500", [("money", 3500)]),
    ("底薪才2000，全靠提成", [("money", 2000)]),
    ("扣了我300", [("money", 300)]),
    ("工资到手4千", [("money", 4000)]),
    ("月薪１５０００", [("money", 15000)]),
    ("月薪３Ｋ", [("money", 3000)]),
    ("他们给我8000多块", [("money", 8000)]),
    ("工资是5000左右", [("money", 5000)]),
    ("加班费一个小时才15块钱", [("money", 15)]),
    ("年终奖说好两万，结果只发了五千", [("money", 20000), ("money", 5000)]),
    ("月薪1.5w，税前", [("money", 15000)]),
    ("5000/月，包吃住", [("money", 5000)]),
    ("赔了我RMB3000", [("money", 3000)]),
    ("包工头欠了3万多工资，过年前说给", [("money", 30000)]),
    ("公司欠了我们三十多万", [("money", 300000)]),
    ("老板说给我1k5", [("money", 1500)]),
    ("月薪8-10K", [("money", 8000), ("money", 10000)]),
    ("工资 3000 元", [("money", 3000)]),
    ("工资7000多点", [("money", 7000)]),
    ("我们是计件的，一件3毛钱", [("money", 0.3)]),
    ("快递员一件提成1块2", [("money", 1.2)]),
    ("跑滴滴的，一天流水400", [("money", 400)]),
    ("我借了老板2000", [("money", 2000)]),
    ("一天能挣两三百", []),
    ("月薪八九千", []),
    ("欠了我们好几万", []),
    ("一两千块", []),
    ("工资从5000降到3000", [("money", 5000), ("money", 3000)]),
    ("工资5000，每年涨200", [("money", 5000), ("money", 200)]),
]

HOURS: list[tuple[str, Expected]] = [
    ("国庆加班了16个小时", [("hours", 16)]),
    ("每天加班3小时，一个月下来好多", [("hours", 3), ("duration", 1)]),
    ("中午只休息半小时", [("hours", 0.5)]),
    ("上周开会开了两个半小时", [("hours", 2.5)]),
    ("连续干了36个钟头", [("hours", 36)]),
    ("这周加了20个钟", [("hours", 20)]),
    ("一天要站12个小时", [("hours", 12)]),
    ("每天工作十几个小时", []),
    ("加班加了一个半小时", [("hours", 1.5)]),
    ("每天12h，一个月休两天", [("hours", 12)]),
    ("下午三点钟下班", []),
    ("一周加班8到10个小时", [("hours", 8), ("hours", 10)]),
    ("一个月加班80个小时", [("hours", 80)]),
    ("加班费一小时25块", [("money", 25)]),
    ("每天多干两个小时没有加班费", [("hours", 2)]),
    ("加班了3个多小时", [("hours", 3)]),
    ("延长了1小时30分钟", [("hours", 1.5)]),
    ("做小时工，一小时20", [("money", 20)]),
    ("连着上了24h班", [("hours", 24)]),
    ("早上8点到晚上10点都在厂里", []),
    ("每天通勤半个小时", [("hours", 0.5)]),
    ("每天加班几个小时不给钱", []),
    ("一天干十个钟头", [("hours", 10)]),
    ("每天12小时，一个月休一天", [("hours", 12)]),
    ("每天加班4个半小时", [("hours", 4.5)]),
    ("加班 16 个小时", [("hours", 16)]),
    ("上班12个小时休息1个小时", [("hours", 12), ("hours", 1)]),
    ("工作时长每天不超过8小时，每周不超过44小时", [("hours", 8), ("hours", 44)]),
]

# Days worked: only next to a word of work ("加班了两天", "上了7天班"); a time or a wait is not.
DAYS: list[tuple[str, Expected]] = [
    ("月薪9000，五一加班了两天，加班费多少", [("money", 9000), ("days", 2)]),
    ("国庆加了3天班", [("days", 3)]),
    ("春节上了7天班，月薪8000", [("days", 7), ("money", 8000)]),
    ("周末加班半天", [("days", 0.5)]),
    ("值了两天半班", [("days", 2.5)]),
    ("前两天加班了", []),
    ("加班一天200块", [("money", 200)]),               # a rate, not one day
    ("一个月休两天", []),
]

DATES: list[tuple[str, Expected]] = [
    ("2024年5月入职的", [("date", "2024-05")]),
    ("去年三月入职到现在没签合同", [("date", "2025-03")]),
    ("今年1月5号被辞退", [("date", "2026-01-05")]),
    ("上个月的工资还没发", [("date", "2026-10")]),
    ("去年就开始拖欠了", [("date", "2025")]),
    ("昨天被老板骂了还扣钱", [("date", "2026-11-24")]),
    ("上周二被通知不用来了", []),
    ("2024.5.20签的合同", [("date", "2024-05-20")]),
    ("2024/5/20入的职", [("date", "2024-05-20")]),
    ("合同是2024-05-20到期的", [("date", "2024-05-20")]),
    ("3月15日之后就没发工资", [("date", "2026-03-15")]),
    ("前年进的厂", [("date", "2024")]),
    ("上上个月开始停发工资", [("date", "2026-09")]),
    ("12月20号入职的", [("date", "2025-12-20")]),
    ("三个月前被辞退", [("date", "2026-08")]),
    ("两年前入职", [("date", "2024")]),
    ("今天去找老板要钱", [("date", "2026-11-25")]),
    ("二零二三年进厂", [("date", "2023")]),
    ("23年5月开始上班", [("date", "2023-05")]),
    ("五月份的工资", [("date", "2026-05")]),
    ("说是2月30号发", []),
    ("前天晚上加班到12点", [("date", "2026-11-23")]),
    ("以前天天加班", []),
    ("我今年35岁了", []),
    ("今年还没涨工资", [("date", "2026")]),
    ("去年12月到今年3月一直没发工资", [("date", "2025-12"), ("date", "2026-03")]),
    ("上个月15号发的工资少了", [("date", "2026-10-15")]),
    ("24年入职，干到现在", [("date", "2024")]),
    ("11月25号", [("date", "2026-11-25")]),
    ("下个月1号开始放假", [("date", "2026-12-01")]),
    ("三天前被开了", [("date", "2026-11-22")]),
    ("２０２５年３月签的", [("date", "2025-03")]),
    ("十二月份开始拖欠", [("date", "2025-12")]),
    ("半年前就不交社保了", [("date", "2026-05")]),
    ("这个月底合同到期", [("date", "2026-11")]),
    ("2022年入职，2025年被辞退", [("date", "2022"), ("date", "2025")]),
    ("我是前年8月份进的厂，干到今年10月份被辞退", [("date", "2024-08"), ("date", "2026-10")]),
    ("老板说下个月15号一起结清", [("date", "2026-12-15")]),
    ("每个月15号发工资", []),
    ("一年半以前签的合同", [("date", "2025-05")]),
    ("我今年46了，在厂里干了一辈子", []),
    ("之后天天加班到半夜", []),
    ("我2019年进的公司，到现在快7年了", [("date", "2019"), ("duration", 84)]),
    ("2024年的5月", [("date", "2024-05")]),
]

NEGATIVES: list[tuple[str, Expected]] = [
    ("我们组3个人都没拿到钱", []),
    ("工资涨了10%", []),
    ("加班费按1.5倍算对吗", []),
    ("劳动合同法第47条怎么说", []),
    ("我电话13812345678，麻烦联系我", []),
    ("给我回电话13812345678", []),
    ("工单号A20240520012查一下", []),
    ("工资卡尾号6222", []),
    ("公司有300多人", []),
    ("给我3天时间考虑", []),
    ("百分之五十的工资", []),
    ("打了八折发工资", []),
    ("一块去劳动局吗", []),
    ("万一公司不给怎么办", []),
    ("我住在3号楼502", []),
    ("一直都是这样", []),
    ("你好", []),
    ("身份证号110101199003071234", []),
    ("工资不高还996", []),
    ("打12333投诉了，工资还是没给", []),
    ("高温补贴35℃以上才有", []),
    ("日工资是月工资除以21.75", []),
    ("试用期工资不低于80%", []),
    ("赔偿2N还是N+1", []),
    ("入职三天就被辞退，工资怎么算", []),
    ("五一劳动节加班了", []),
    ("我50多岁了还能干吗", []),
]

MIXED: list[tuple[str, Expected]] = [
    ("2023年3月入职，干了一年半，月薪5000，每天加班3小时",
     [("date", "2023-03"), ("duration", 18), ("money", 5000), ("hours", 3)]),
    ("去年5月进厂，工资一个月4千，一天干12个钟头",
     [("date", "2025-05"), ("money", 4000), ("hours", 12)]),
    ("我35岁，在这里干了8年，工资6000", [("duration", 96), ("money", 6000)]),
    ("老板欠我三个月工资，一共一万八", [("duration", 3), ("money", 18000)]),
    ("每天干11个小时，一个月才3500", [("hours", 11), ("money", 3500)]),
    ("两千一个月，一天12个小时", [("money", 2000), ("hours", 12)]),
    ("一个月三千，干了两年零五个月", [("money", 3000), ("duration", 29)]),
    ("上个月加班了40多个小时，加班费一分没给", [("date", "2026-10"), ("hours", 40)]),
]

ALL = DURATIONS + MONEY + HOURS + DAYS + DATES + NEGATIVES + MIXED
IDS = [f"{kind}-{i}" for kind, group in (("duration", DURATIONS), ("money", MONEY), ("hours", HOURS),
       ("days", DAYS), ("date", DATES), ("negative", NEGATIVES), ("mixed", MIXED)) for i in range(len(group))]


def pairs(found: list[Found]) -> Expected:
    return [(f.entity, f.value) for f in found]


@pytest.mark.parametrize(("text", "expected"), ALL, ids=IDS)
def test_phrase(text: str, expected: Expected) -> None:
    assert pairs(extract_numbers(text, TODAY)) == expected


@pytest.mark.parametrize(("text", "_"), ALL, ids=IDS)
def test_spans_are_sorted_disjoint_and_point_at_the_text(text: str, _: Expected) -> None:
    found = extract_numbers(text, TODAY)
    assert all(f.text == text[f.start:f.end] and f.text for f in found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:]))


def test_whole_numbers_are_ints_and_fractions_floats() -> None:
    values = [f.value for f in extract_numbers("干了三年半，加班一个半小时，工资3000", TODAY)]
    assert values == [42, 1.5, 3000]
    assert [type(v) for v in values] == [int, float, int]


def test_relative_dates_follow_today() -> None:
    assert pairs(extract_numbers("去年三月", date(2025, 1, 10))) == [("date", "2024-03")]
    assert pairs(extract_numbers("3月15日", date(2026, 3, 10))) == [("date", "2025-03-15")]
    assert pairs(extract_numbers("上个月", date(2026, 1, 3))) == [("date", "2025-12")]


@pytest.mark.parametrize("text", [
    "", " ", "😀😀😀", "\x00\x01\x02\xff", "\ufffd" * 50, "一" * 5000, "9" * 10000,
    "１２３４５６７８９０" * 300, "万" * 3000, "三年半" * 2000, "，。！" * 1000,
])
def test_odd_input_never_raises(text: str) -> None:
    found = extract_numbers(text, TODAY)
    assert isinstance(found, list)


def test_non_string_input_gives_nothing() -> None:
    assert extract_numbers(None, TODAY) == []  # type: ignore[arg-type]
    assert extract_numbers(b"3\xe5\xb9\xb4", TODAY) == []  # type: ignore[arg-type]


def test_random_numeral_soup_parses_without_internal_errors(caplog: pytest.LogCaptureFixture) -> None:
    """The public function swallows errors; a logged one is still a bug, so fuzz for them."""
    rng = random.Random(7)
    alphabet = "0123456789一二两三四五六七八九十百千万年个月半多来几号日块元小时钟头前上下去今kKwW.,-到，。工资第每¥"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(3000)]
    with caplog.at_level("ERROR", logger="bot.nlu.numbers"):
        for text in texts:
            for f in extract_numbers(text, TODAY):
                assert f.text == text[f.start:f.end]
    assert not caplog.records


@pytest.mark.parametrize("unit", ["9", "一", "1万", "一二三四五六七八九十百千万", "1,", "3-", "三年半"])
def test_ten_thousand_characters_in_reasonable_time(unit: str) -> None:
    text = (unit * 10000)[:10000]
    started = time.perf_counter()
    extract_numbers(text, TODAY)
    assert time.perf_counter() - started < 3  # loose: once quadratic backtracking took 25 s


def test_ten_thousand_characters_of_messages() -> None:
    text = ("我在这家厂干了三年半，月薪六千，去年三月加班了16个小时。" * 400)[:10000]
    started = time.perf_counter()
    found = extract_numbers(text, TODAY)
    assert time.perf_counter() - started < 2
    assert len(found) > 1000
