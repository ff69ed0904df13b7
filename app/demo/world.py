"""The demo's world: makers, dealers, providers and outlets across provinces, products and faults.

Static and small on purpose: the simulation draws from it with a seeded random generator,
so the same seed gives the same orders.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    province: str
    name: str
    capital: bool
    counties: tuple[str, ...]


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    provider_id: str
    city: City
    counties: tuple[str, ...]  # () = the whole city
    technicians: tuple[str, ...]
    capacity_per_day: int


@dataclass(frozen=True)
class Maker:
    id: str
    brand: str
    models: dict[str, tuple[str, ...]]  # product category -> models


CITIES: tuple[City, ...] = (
    City("湖北", "武汉", True, ("洪山区", "武昌区", "江汉区")),
    City("湖北", "宜昌", False, ("西陵区", "夷陵区")),
    City("广东", "广州", True, ("天河区", "越秀区")),
    City("广东", "佛山", False, ("顺德区", "南海区")),
    City("四川", "成都", True, ("武侯区", "锦江区")),
    City("四川", "绵阳", False, ("涪城区",)),
    City("江苏", "南京", True, ("鼓楼区", "玄武区")),
    City("江苏", "苏州", False, ("姑苏区", "吴中区")),
)
_BY_NAME = {c.name: c for c in CITIES}

OUTLETS: tuple[Outlet, ...] = (
    Outlet("WH-HS", "武汉洪山服务站", "prov-wuhan", _BY_NAME["武汉"], ("洪山区",), ("tech-wh-01", "tech-wh-02"), 12),
    Outlet("WH-WC", "武汉武昌服务站", "prov-wuhan", _BY_NAME["武汉"], ("武昌区", "江汉区"), ("tech-wh-03", "tech-wh-04"), 10),
    Outlet("YC-01", "宜昌家电维修中心", "prov-yichang", _BY_NAME["宜昌"], (), ("tech-yc-01",), 6),
    Outlet("GZ-TH", "广州天河特约维修点", "prov-yuexiu", _BY_NAME["广州"], (), ("tech-gz-01", "tech-gz-02", "tech-gz-03"), 15),
    Outlet("FS-SD", "顺德售后服务部", "prov-shunde", _BY_NAME["佛山"], (), ("tech-fs-01", "tech-fs-02"), 8),
    Outlet("CD-WH", "成都武侯服务网点", "prov-chengdu", _BY_NAME["成都"], (), ("tech-cd-01", "tech-cd-02"), 10),
    Outlet("MY-01", "绵阳涪城维修站", "prov-chengdu", _BY_NAME["绵阳"], (), ("tech-my-01",), 5),
    Outlet("NJ-GL", "南京鼓楼服务站", "prov-jinling", _BY_NAME["南京"], (), ("tech-nj-01", "tech-nj-02"), 10),
    Outlet("SZ-GS", "苏州姑苏服务站", "prov-jinling", _BY_NAME["苏州"], (), ("tech-sz-01", "tech-sz-02"), 8),
)
PROVIDERS: dict[str, str] = {
    "prov-wuhan": "武汉服务商", "prov-yichang": "宜昌三峡家电服务", "prov-yuexiu": "广州越秀家电服务",
    "prov-shunde": "顺德顺心售后", "prov-chengdu": "成都天府家电服务", "prov-jinling": "金陵家电服务",
}

MAKERS: tuple[Maker, ...] = (
    Maker("gree", "格力", {"air_conditioner": ("KFR-35GW", "KFR-72LW"), "water_heater": ("GSD-60E",)}),
    Maker("midea", "美的", {"air_conditioner": ("KFR-26GW",), "washing_machine": ("MG100V11D",),
                            "refrigerator": ("BCD-516WKPZM",)}),
    Maker("haier", "海尔", {"refrigerator": ("BCD-470WDPG",), "washing_machine": ("EG100MATE2S",),
                            "water_heater": ("EC6001-GC",)}),
)

# (key, id, name): dealers' and retailers' systems; the first two are libs/web/auth.py's demo partners.
PARTNERS: tuple[tuple[str, str, str], ...] = (
    ("demo-partner-key", "jd-retail", "京东家电"),
    ("demo-partner2-key", "suning", "苏宁"),
    ("demo-dealer-gongmao-key", "dealer-gongmao", "武汉工贸家电"),
    ("demo-dealer-wuzhou-key", "dealer-wuzhou", "五洲电器 (佛山)"),
)

FAULTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # category -> (reported fault, diagnosis, solution)
    "air_conditioner": (("不制冷", "冷媒泄漏", "补焊并加注冷媒"), ("室外机噪音大", "风扇电机轴承磨损", "更换风扇电机"),
                        ("显示E1故障码", "压力保护误动作", "更换压力开关")),
    "washing_machine": (("不脱水", "排水泵堵塞", "清理排水泵"), ("漏水", "门封老化", "更换门封"),
                        ("不能启动", "电脑板故障", "更换电脑板")),
    "refrigerator": (("冷藏室不制冷", "风门卡死", "更换风门组件"), ("结霜严重", "化霜加热丝断路", "更换加热丝")),
    "water_heater": (("不加热", "加热管烧毁", "更换加热管"), ("漏电保护跳闸", "温控器失灵", "更换温控器")),
}
PARTS: dict[str, tuple[tuple[str, str, int], ...]] = {
    # category -> (part number, name, unit cost in fen)
    "air_conditioner": (("AC-FAN-M01", "风扇电机", 18500), ("AC-PSW-02", "压力开关", 4200), ("AC-R32-1KG", "R32冷媒1kg", 9000)),
    "washing_machine": (("WM-PUMP-01", "排水泵", 6500), ("WM-SEAL-03", "门封", 5800), ("WM-PCB-10", "电脑板", 32000)),
    "refrigerator": (("RF-DMP-01", "风门组件", 7800), ("RF-HTR-02", "化霜加热丝", 3600)),
    "water_heater": (("WH-ELM-01", "加热管", 8800), ("WH-TST-02", "温控器", 3900)),
}


def returnable(cost_fen: int) -> bool:
    """The expensive parts go back to the maker (旧件返还)."""
    return cost_fen >= 18000


SURNAMES = "张王李赵刘陈杨黄周吴徐孙马朱胡郭何林罗高"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "强", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞", "平")
STREETS = ("珞喻路", "中山大道", "解放路", "人民路", "建设路", "和平街", "新华路", "滨江路", "光谷大道", "天府大道")
WORKING_CONDITIONS = ("卧室, 每天使用约8小时", "客厅, 夏季全天开机", "厨房, 油烟较多", "卫生间, 潮湿", "出租屋, 使用频繁")


def outlets_for(city: City, county: str) -> list[Outlet]:
    """The outlets that serve a county: county outlets first, then whole-city ones."""
    exact = [o for o in OUTLETS if o.city == city and county in o.counties]
    whole = [o for o in OUTLETS if o.city == city and not o.counties]
    return exact + whole or [o for o in OUTLETS if o.city == city]


def staff(maker: str, role: str) -> str:
    """The API key of a maker's finance clerk, supervisor or dispatcher (gree's are auth.py's demo keys)."""
    return f"demo-{role}-key" if maker == "gree" else f"demo-{role}-{maker}-key"


def technician_key(provider: str) -> str:
    """The technicians' app key of a provider (prov-wuhan's is auth.py's demo technician key)."""
    return "demo-technician-key" if provider == "prov-wuhan" else f"demo-technician-{provider}-key"


STAFF: tuple[tuple[str, str, str, str, str], ...] = tuple(
    (staff(m.id, role), f"{role}-{m.id}", role, f"{m.brand} {role}", m.id)
    for m in MAKERS if m.id != "gree" for role in ("finance", "supervisor", "dispatcher")
) + tuple(
    (technician_key(p), f"tech-desk-{p}", "technician", f"{name} technicians", p) for p, name in PROVIDERS.items()
    if p != "prov-wuhan"
)
