"""Short real-looking FAQ pairs for training tests."""

import pytest

PAIRS = [("这款手表防水吗", "这款手表可以在游泳时佩戴，防水五十米。"),
         ("怎么退货", "七天内可以无理由退货，需保持商品完好。"),
         ("配送要几天", "一般三天送达，偏远地区一周。"), ("发票怎么开", "下单时填写抬头即可开具电子发票。"),
         ("能用花呗吗", "支持花呗分期付款，最多十二期。"), ("有优惠券吗", "新用户注册即送满一百减十元优惠券。"),
         ("保修多久", "整机保修一年，电池保修六个月。"), ("可以改地址吗", "发货前可以在订单页修改收货地址。")]


@pytest.fixture(scope="session")
def faq_pairs() -> list[tuple[str, str]]:
    return PAIRS
