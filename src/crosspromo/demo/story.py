"""The demo city's story as data: kinds of business, journeys, pairs, rivals, seasons, places.

Everything the generator plants is read from these tables, so the story can be read (and
changed) here without reading the generator. Category codes are OpenStreetMap iD presets.
"""

from __future__ import annotations

from typing import NamedTuple


class Kind(NamedTuple):
    """A kind of business (an OpenStreetMap preset) and how people buy there."""

    ru: str  # name stem in Russian: «Пекарня «Колосок»»
    en: str  # name stem in English: "Crumb & Co Bakery"
    check: int  # average check in roubles at price tier 2 (see TIER_PRICE)
    rate: float  # purchases per month of a loyal customer; 0: one purchase (a car, a kitchen)
    reach: float  # share of people who buy here on their own in 18 months, outside journeys
    interest: str  # people interested in this buy here more often
    tiers: tuple[int, ...]  # price tiers such businesses come in
    weight: float  # how common such businesses are in a city
    season: str  # key of MONTHLY
    week: str  # key of WEEKLY
    hours: str  # key of HOURS
    items: tuple[str, ...]  # what a receipt lists


# fmt: off
CATEGORIES: dict[str, Kind] = {
    # Food and drink: frequent, cheap, seen every week.
    "shop=bakery": Kind(
        "Пекарня", "Bakery", 350, 4.0, 0.30, "food", (1, 2, 3), 5, "flat", "daily", "morning",
        ("Багет", "Круассан", "Бородинский хлеб", "Синнабон", "Пирог с вишней", "Чиабатта"),
    ),
    "amenity=cafe": Kind(
        "Кафе", "Cafe", 450, 3.0, 0.30, "food", (1, 2, 3, 4), 6, "summer", "weekend", "morning",
        ("Капучино", "Латте", "Раф", "Сырники", "Завтрак", "Эклер", "Лимонад"),
    ),
    "amenity=restaurant": Kind(
        "Ресторан", "Restaurant", 2500, 0.8, 0.18, "food", (2, 3, 4), 4, "holidays", "weekend",
        "evening", ("Ужин", "Бизнес-ланч", "Бокал вина", "Десерт", "Паста", "Стейк"),
    ),
    "amenity=fast_food": Kind(
        "Бургерная", "Burgers", 400, 2.0, 0.20, "food", (1, 2), 3, "flat", "weekend", "lunch",
        ("Бургер", "Картофель фри", "Кола", "Наггетсы"),
    ),
    "shop=confectionery": Kind(
        "Кондитерская", "Sweets", 600, 1.0, 0.12, "food", (1, 2, 3), 2, "holidays", "weekend",
        "day", ("Торт", "Макаруны", "Конфеты ручной работы", "Пирожное"),
    ),
    "shop=butcher": Kind(
        "Мясная лавка", "Butcher", 1200, 2.0, 0.10, "food", (2, 3), 2, "holidays", "weekend",
        "day", ("Говядина", "Фарш", "Колбаски", "Стейк рибай"),
    ),
    "shop=greengrocer": Kind(
        "Овощи и фрукты", "Greengrocer", 500, 3.0, 0.15, "food", (1, 2), 2, "summer", "daily",
        "day", ("Яблоки", "Томаты", "Зелень", "Черешня"),
    ),
    "shop=wine": Kind(
        "Винотека", "Wine Cellar", 1500, 0.8, 0.08, "food", (2, 3, 4), 1.5, "holidays",
        "weekend", "evening", ("Красное вино", "Игристое", "Сыр к вину"),
    ),
    "shop=coffee": Kind(
        "Кофе в зёрнах", "Coffee Roasters", 900, 0.7, 0.06, "food", (2, 3), 1, "flat", "daily",
        "day", ("Эфиопия 250 г", "Колумбия 1 кг", "Дрип-пакеты"),
    ),
    "amenity=ice_cream": Kind(
        "Мороженое", "Ice Cream", 250, 1.0, 0.12, "food", (1, 2), 1.5, "ice_cream", "weekend",
        "day", ("Пломбир", "Сорбет", "Джелато"),
    ),
    "amenity=bar": Kind(
        "Бар", "Bar", 1800, 1.0, 0.10, "nightlife", (2, 3, 4), 2, "holidays", "friday", "night",
        ("Пиво", "Коктейль", "Настойка"),
    ),
    # Gifts and flowers: holidays make the year.
    "shop=florist": Kind(
        "Цветы", "Flowers", 1800, 0.3, 0.12, "gifts", (1, 2, 3, 4), 3, "flowers", "daily", "day",
        ("Букет роз", "Тюльпаны", "Композиция", "Пионы"),
    ),
    "shop=gift": Kind(
        "Подарки", "Gifts", 1500, 0.15, 0.05, "gifts", (1, 2, 3), 1, "holidays", "weekend", "day",
        ("Сувенир", "Открытка", "Подарочный набор"),
    ),
    "shop=jewelry": Kind(
        "Ювелирный", "Jewellery", 15000, 0.0, 0.03, "fashion", (3, 4), 1, "holidays", "weekend",
        "day", ("Кольцо", "Серьги", "Цепочка"),
    ),
    # Home: the moving-house journey and what goes with it; one-off, expensive.
    "office=estate_agent": Kind(
        "Агентство недвижимости", "Realty", 60000, 0.0, 0.0, "home", (2, 3, 4), 2.5,
        "renovation", "weekdays", "office", ("Подбор квартиры", "Сопровождение сделки"),
    ),
    "craft=plasterer": Kind(
        "Отделка стен", "Plastering", 45000, 0.0, 0.0, "home", (1, 2, 3), 2.5, "renovation",
        "weekdays", "office", ("Штукатурка стен", "Выравнивание", "Натяжной потолок"),
    ),
    "craft=window_construction": Kind(
        "Окна", "Windows", 55000, 0.0, 0.005, "home", (1, 2, 3), 2.5, "renovation", "weekdays",
        "office", ("Окно ПВХ", "Остекление балкона", "Москитная сетка"),
    ),
    "shop=furniture": Kind(
        "Мебель", "Furniture", 35000, 0.0, 0.03, "home", (1, 2, 3, 4), 3, "renovation",
        "weekend", "day", ("Диван", "Шкаф", "Стол", "Стулья"),
    ),
    "shop=kitchen": Kind(
        "Кухни", "Kitchens", 150000, 0.0, 0.01, "home", (2, 3, 4), 1, "renovation", "weekend",
        "day", ("Кухонный гарнитур", "Столешница"),
    ),
    "craft=carpenter": Kind(
        "Столярная мастерская", "Carpentry", 20000, 0.0, 0.01, "home", (2, 3), 1, "renovation",
        "weekdays", "office", ("Межкомнатная дверь", "Полки на заказ"),
    ),
    "shop=doityourself": Kind(
        "Стройматериалы", "DIY", 3500, 0.5, 0.06, "home", (1, 2), 1.5, "renovation", "weekend",
        "day", ("Краска", "Инструмент", "Плитка", "Шпаклёвка"),
    ),
    "shop=interior_decoration": Kind(
        "Декор", "Home Decor", 4000, 0.1, 0.04, "home", (2, 3, 4), 1, "holidays", "weekend",
        "day", ("Ваза", "Лампа", "Подушка"),
    ),
    "shop=bed": Kind(
        "Матрасы", "Sleep Store", 25000, 0.0, 0.01, "home", (2, 3, 4), 0.8, "renovation",
        "weekend", "day", ("Матрас", "Кровать", "Подушка"),
    ),
    "shop=curtain": Kind(
        "Шторы", "Curtains", 12000, 0.0, 0.01, "home", (1, 2, 3), 0.8, "renovation", "weekend",
        "day", ("Шторы", "Тюль", "Карниз"),
    ),
    "craft=electrician": Kind(
        "Электромонтаж", "Electric", 5000, 0.0, 0.02, "home", (1, 2), 1, "flat", "weekdays",
        "office", ("Замена проводки", "Установка розеток"),
    ),
    "craft=plumber": Kind(
        "Сантехник", "Plumbing", 4500, 0.0, 0.03, "home", (1, 2), 1, "flat", "weekdays",
        "office", ("Замена смесителя", "Установка унитаза"),
    ),
    # Cars.
    "education=driving_school": Kind(
        "Автошкола", "Driving School", 45000, 0.0, 0.0, "car", (1, 2, 3), 1.5, "renovation",
        "weekdays", "office", ("Курс категории B", "Дополнительное занятие"),
    ),
    "shop=car": Kind(
        "Автосалон", "Motors", 1500000, 0.0, 0.0, "car", (2, 3, 4), 2, "flat", "weekend", "day",
        ("Автомобиль", "Доп. оборудование"),
    ),
    "office=insurance": Kind(
        "Страхование", "Insurance", 30000, 0.0, 0.02, "car", (1, 2, 3), 2, "flat", "weekdays",
        "office", ("ОСАГО", "КАСКО"),
    ),
    "shop=car_repair": Kind(
        "Автосервис", "Car Service", 8000, 0.2, 0.08, "car", (1, 2, 3), 2, "flat", "weekdays",
        "day", ("ТО", "Диагностика", "Замена масла"),
    ),
    "shop=car_parts": Kind(
        "Автозапчасти", "Auto Parts", 3000, 0.2, 0.06, "car", (1, 2), 1, "flat", "weekend", "day",
        ("Фильтр", "Колодки", "Щётки"),
    ),
    "shop=tyres": Kind(
        "Шины", "Tyres", 12000, 0.0, 0.05, "car", (1, 2, 3), 1, "tyres", "weekend", "day",
        ("Зимняя резина", "Шиномонтаж", "Хранение шин"),
    ),
    # Sport.
    "leisure=fitness_centre": Kind(
        "Фитнес-клуб", "Fitness", 4000, 1.0, 0.0, "sport", (1, 2, 3, 4), 3, "new_year",
        "weekdays", "fitness", ("Абонемент", "Персональная тренировка", "Разовое посещение"),
    ),
    "leisure=sports_centre": Kind(
        "Йога-студия", "Yoga Studio", 3500, 1.0, 0.04, "sport", (2, 3), 1.5, "new_year",
        "weekdays", "fitness", ("Абонемент", "Разовое занятие"),
    ),
    "amenity=dojo": Kind(
        "Школа единоборств", "Martial Arts", 5000, 1.0, 0.02, "sport", (1, 2, 3), 1, "school",
        "weekdays", "fitness", ("Абонемент", "Экипировка"),
    ),
    "shop=sports": Kind(
        "Спорттовары", "Sports Store", 3000, 0.2, 0.06, "sport", (1, 2, 3), 1.5, "flat",
        "weekend", "day", ("Кроссовки", "Коврик для йоги", "Гантели"),
    ),
    "shop=nutrition_supplements": Kind(
        "Спортивное питание", "Nutrition", 2500, 0.5, 0.02, "sport", (1, 2, 3), 1.5, "new_year",
        "daily", "day", ("Протеин", "Витамины", "Батончики"),
    ),
    # Beauty and fashion.
    "shop=hairdresser": Kind(
        "Парикмахерская", "Hair Studio", 1500, 0.8, 0.25, "beauty", (1, 2, 3, 4), 4, "flat",
        "weekend", "day", ("Стрижка", "Окрашивание", "Укладка"),
    ),
    "shop=beauty": Kind(
        "Салон красоты", "Beauty Salon", 2500, 0.6, 0.12, "beauty", (2, 3, 4), 3, "holidays",
        "weekend", "day", ("Маникюр", "Педикюр", "Уход за лицом"),
    ),
    "shop=cosmetics": Kind(
        "Косметика", "Cosmetics", 1800, 0.4, 0.10, "beauty", (1, 2, 3), 1.5, "holidays",
        "weekend", "day", ("Крем", "Помада", "Шампунь"),
    ),
    "shop=clothes": Kind(
        "Одежда", "Fashion", 4500, 0.3, 0.15, "fashion", (1, 2, 3, 4), 3, "flat", "weekend", "day",
        ("Платье", "Джинсы", "Куртка", "Рубашка"),
    ),
    "shop=shoes": Kind(
        "Обувь", "Shoes", 5000, 0.2, 0.08, "fashion", (1, 2, 3), 2, "flat", "weekend", "day",
        ("Ботинки", "Кроссовки", "Туфли"),
    ),
    # Health.
    "shop=optician": Kind(
        "Оптика", "Optics", 7000, 0.0, 0.04, "health", (1, 2, 3), 1, "flat", "weekdays", "day",
        ("Очки", "Линзы", "Проверка зрения"),
    ),
    "amenity=dentist": Kind(
        "Стоматология", "Dental", 6000, 0.15, 0.10, "health", (2, 3, 4), 2, "flat", "weekdays",
        "office", ("Осмотр", "Чистка", "Пломба"),
    ),
    "healthcare=physiotherapist": Kind(
        "Реабилитация", "Physio", 3500, 0.5, 0.02, "health", (2, 3), 1, "flat", "weekdays",
        "office", ("Массаж", "ЛФК", "Консультация"),
    ),
    # Pets.
    "shop=pet": Kind(
        "Зоомагазин", "Pet Shop", 1500, 1.0, 0.12, "pets", (1, 2, 3), 2, "flat", "weekend", "day",
        ("Корм", "Наполнитель", "Игрушка"),
    ),
    "amenity=veterinary": Kind(
        "Ветклиника", "Vet Clinic", 3000, 0.2, 0.04, "pets", (2, 3), 1.5, "flat", "weekdays",
        "office", ("Приём", "Прививка", "Анализы"),
    ),
    # Children and learning.
    "shop=baby_goods": Kind(
        "Детские товары", "Baby Goods", 2500, 0.5, 0.0, "kids", (1, 2, 3), 1.5, "flat",
        "weekend", "day", ("Подгузники", "Коляска", "Бодики"),
    ),
    "shop=toys": Kind(
        "Игрушки", "Toys", 1800, 0.3, 0.06, "kids", (1, 2, 3), 1.5, "holidays", "weekend", "day",
        ("Конструктор", "Кукла", "Пазл"),
    ),
    "amenity=childcare": Kind(
        "Детский клуб", "Kids Club", 12000, 1.0, 0.02, "kids", (2, 3), 1, "school", "weekdays",
        "office", ("Абонемент на месяц", "Развивающее занятие"),
    ),
    "shop=books": Kind(
        "Книги", "Books", 900, 0.3, 0.08, "learning", (1, 2), 1.5, "school", "weekend", "day",
        ("Роман", "Детская книга", "Учебник"),
    ),
    "shop=stationery": Kind(
        "Канцтовары", "Stationery", 600, 0.3, 0.08, "learning", (1, 2), 1, "school", "weekdays",
        "day", ("Тетради", "Ручки", "Рюкзак"),
    ),
    "education=language_school": Kind(
        "Языковая школа", "Language School", 8000, 0.9, 0.03, "learning", (2, 3), 1.5, "school",
        "weekdays", "office", ("Курс английского", "Разговорный клуб"),
    ),
    # Travel.
    "shop=travel_agency": Kind(
        "Турагентство", "Travel", 90000, 0.0, 0.0, "travel", (2, 3, 4), 1.5, "travel", "weekdays",
        "office", ("Тур", "Авиабилеты", "Страховка путешественника"),
    ),
    "tourism=hotel": Kind(
        "Гостиница", "Hotel", 7000, 0.0, 0.01, "travel", (1, 2, 3, 4), 1.5, "summer", "friday",
        "day", ("Номер", "Завтрак", "Трансфер"),
    ),
    # Gadgets.
    "shop=mobile_phone": Kind(
        "Салон связи", "Mobile", 15000, 0.0, 0.06, "tech", (1, 2, 3), 1.5, "holidays", "weekend",
        "day", ("Смартфон", "Чехол", "Сим-карта"),
    ),
    "shop=computer": Kind(
        "Компьютеры", "Computers", 40000, 0.0, 0.03, "tech", (2, 3), 1, "school", "weekend",
        "day", ("Ноутбук", "Монитор", "Мышь"),
    ),
    "shop=photo": Kind(
        "Фотоателье", "Photo Studio", 1200, 0.1, 0.03, "tech", (1, 2), 0.8, "school", "weekdays",
        "day", ("Фото на документы", "Печать фото"),
    ),
}
# fmt: on
INTERESTS = sorted({kind.interest for kind in CATEGORIES.values()})
TIER_PRICE = {1: 0.6, 2: 1.0, 3: 1.7, 4: 3.0}  # average check of a tier relative to tier 2
# How many people of each income (1 = thrifty .. 4 = rich); income is the preferred tier.
INCOME_WEIGHTS = (0.30, 0.40, 0.22, 0.08)
TIER_WEIGHTS = (3.0, 4.0, 3.0, 1.5)  # how often businesses open in each tier


class Journey(NamedTuple):
    """People buy at each step, then a share of them at the next step within the lag."""

    name: str
    steps: tuple[str, ...]
    lags: tuple[tuple[int, int], ...]  # days from one step to the next
    carry_on: float  # share of a step's customers who go on to the next step
    entry: float  # share of people who start the journey within 18 months
    interest: str | None  # people with this interest start it more often


JOURNEYS: tuple[Journey, ...] = (
    Journey(
        "moving house",
        ("office=estate_agent", "craft=plasterer", "craft=window_construction", "shop=furniture"),
        ((7, 56), (7, 56), (7, 56)),
        0.6,
        0.05,
        None,
    ),
    Journey("new car", ("shop=car", "office=insurance"), ((1, 14),), 0.6, 0.025, "car"),
    Journey(
        "learner driver",
        ("education=driving_school", "shop=car", "office=insurance"),
        ((14, 56), (1, 14)),
        0.45,
        0.03,
        "car",
    ),
    Journey(
        "getting fit",
        ("leisure=fitness_centre", "shop=nutrition_supplements"),
        ((7, 30),),
        0.45,
        0.10,
        "sport",
    ),
    Journey("holiday", ("shop=travel_agency", "tourism=hotel"), ((14, 60),), 0.5, 0.05, "travel"),
    Journey("new baby", ("shop=baby_goods", "shop=toys"), ((21, 90),), 0.5, 0.04, "kids"),
)


class Together(NamedTuple):
    """Customers of `a` also buy at `b` in the same weeks, in no order; often the same day."""

    a: str
    b: str
    share: float  # share of `a`'s customers who also buy at a `b` near them
    same_day: float  # share of their visits to `a` with a visit to `b` the same day
    lag: tuple[int, int]  # days between their first purchases at `a` and at `b`, either way


TOGETHER: tuple[Together, ...] = (
    Together("amenity=cafe", "shop=bakery", 0.5, 0.5, (0, 14)),
    Together("amenity=restaurant", "shop=florist", 0.35, 0.6, (0, 14)),
    Together("shop=pet", "amenity=veterinary", 0.45, 0.1, (0, 14)),
    Together("shop=hairdresser", "shop=beauty", 0.35, 0.4, (0, 14)),
    Together("shop=clothes", "shop=shoes", 0.35, 0.5, (0, 14)),
)


class Rivalry(NamedTuple):
    """Two businesses for the same need, side by side, in the same tier.

    "switch": a customer of `a` moves to `b` at some date and stops buying at `a`;
    "alternate": from some date the customer buys at both.
    """

    a: str
    b: str
    mode: str
    share: float  # share of `a`'s customers who switch or alternate


COMPETING: tuple[Rivalry, ...] = (
    Rivalry("leisure=fitness_centre", "leisure=fitness_centre", "switch", 0.3),
    Rivalry("leisure=fitness_centre", "leisure=sports_centre", "switch", 0.25),
    Rivalry("amenity=cafe", "amenity=cafe", "alternate", 0.3),
    Rivalry("shop=hairdresser", "shop=hairdresser", "switch", 0.3),
)
# At least this many businesses of a kind in any city (the promotion needs a cafe of its own).
MINIMUM = {"amenity=cafe": 3, "shop=bakery": 2, "leisure=fitness_centre": 2, "shop=hairdresser": 2}

# Visit multipliers by month, January first.
MONTHLY: dict[str, tuple[float, ...]] = {
    "flat": (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0),
    "summer": (0.7, 0.7, 0.8, 0.9, 1.1, 1.3, 1.4, 1.3, 1.0, 0.9, 0.8, 0.8),
    "ice_cream": (0.3, 0.3, 0.5, 0.8, 1.3, 1.9, 2.2, 2.0, 1.1, 0.6, 0.4, 0.4),
    "renovation": (0.6, 0.8, 1.3, 1.5, 1.5, 1.2, 1.0, 1.0, 1.0, 0.9, 0.7, 0.5),
    "holidays": (0.8, 1.1, 1.2, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.1, 1.6),
    "flowers": (0.8, 1.0, 1.0, 0.9, 1.0, 0.9, 0.8, 0.9, 1.0, 0.9, 0.9, 1.2),
    "new_year": (1.6, 1.3, 1.1, 1.0, 1.0, 0.8, 0.7, 0.7, 1.1, 1.0, 0.9, 0.8),
    "school": (0.9, 0.9, 0.9, 0.8, 0.8, 0.6, 0.7, 1.6, 1.8, 1.1, 1.0, 0.9),
    "tyres": (0.5, 0.3, 0.6, 1.8, 1.0, 0.5, 0.4, 0.5, 0.8, 2.2, 1.8, 0.6),
    "travel": (0.8, 0.8, 1.0, 1.2, 1.4, 1.3, 1.0, 0.9, 0.8, 0.8, 0.9, 1.3),
}
# Visit multipliers by weekday, Monday first.
WEEKLY: dict[str, tuple[float, ...]] = {
    "daily": (0.95, 0.95, 0.95, 1.0, 1.05, 1.1, 1.0),
    "weekend": (0.8, 0.8, 0.85, 0.9, 1.1, 1.5, 1.4),
    "weekdays": (1.2, 1.2, 1.15, 1.15, 1.1, 0.6, 0.3),
    "friday": (0.6, 0.7, 0.8, 1.0, 1.6, 1.8, 0.8),
}
# Rushes before holidays: (category, month, day, days before the date, multiplier); the
# multiplier holds from that many days before the date through the date itself.
PEAKS: tuple[tuple[str, int, int, int, float], ...] = (
    ("shop=florist", 2, 14, 3, 4.0),  # Valentine's day
    ("shop=florist", 3, 8, 4, 6.0),  # International Women's Day
    ("shop=florist", 9, 1, 3, 3.5),  # Day of Knowledge: flowers for the teacher
    ("shop=confectionery", 3, 8, 2, 2.0),
    ("amenity=restaurant", 2, 14, 0, 2.5),
    ("amenity=restaurant", 3, 8, 1, 2.0),
    ("shop=gift", 12, 31, 10, 3.0),
    ("shop=toys", 12, 31, 10, 2.5),
    ("shop=stationery", 9, 1, 14, 2.5),
)
# Relative receipts per hour of day, 00..23, by daily rhythm.
HOURS: dict[str, tuple[float, ...]] = {
    "morning": (0, 0, 0, 0, 0, 0, 0, 2, 5, 5, 3, 2, 3, 3, 2, 2, 2, 3, 3, 2, 1, 1, 0, 0),
    "day": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 3, 3, 3, 3, 4, 4, 3, 2, 0, 0),
    "lunch": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 4, 4, 2, 1, 1, 2, 3, 3, 2, 2, 1, 0),
    "evening": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 2, 1, 1, 1, 3, 5, 5, 3, 1, 0),
    "night": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 5, 3),
    "office": (0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, 3, 2, 3, 3, 3, 3, 2, 1, 0, 0, 0, 0),
    "fitness": (0, 0, 0, 0, 0, 0, 0, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 2, 4, 4, 3, 2, 0, 0),
}


class District(NamedTuple):
    ru: str
    en: str
    lat: float
    lon: float
    streets: tuple[str, ...]


DISTRICTS: tuple[District, ...] = (
    District("Тверской", "Tverskoy", 55.7650, 37.6050, ("Тверская ул.", "ул. Петровка")),
    District("Хамовники", "Khamovniki", 55.7290, 37.5700, ("Комсомольский пр.", "ул. Плющиха")),
    District("Сокольники", "Sokolniki", 55.7890, 37.6790, ("ул. Стромынка", "Русаковская ул.")),
    District("Марьино", "Maryino", 55.6500, 37.7440, ("Люблинская ул.", "ул. Братиславская")),
    District("Строгино", "Strogino", 55.8030, 37.4100, ("Строгинский б-р", "ул. Кулакова")),
    District("Ясенево", "Yasenevo", 55.6060, 37.5330, ("Новоясеневский пр.", "ул. Паустовского")),
    District("Измайлово", "Izmaylovo", 55.7880, 37.7800, ("Измайловский пр.", "Первомайская ул.")),
    District("Отрадное", "Otradnoye", 55.8610, 37.6040, ("ул. Декабристов", "Алтуфьевское ш.")),
    District("Раменки", "Ramenki", 55.6980, 37.5000, ("Мичуринский пр.", "ул. Раменки")),
    District("Люблино", "Lyublino", 55.6770, 37.7620, ("ул. Судакова", "Ставропольская ул.")),
    District("Хорошёво-Мнёвники", "Khoroshevo", 55.7760, 37.4800, ("ул. Народного Ополчения",)),
    District("Басманный", "Basmanny", 55.7660, 37.6560, ("ул. Покровка", "Бауманская ул.")),
    District("Черёмушки", "Cheryomushki", 55.6700, 37.5600, ("Профсоюзная ул.", "ул. Гарибальди")),
    District("Марьина Роща", "Maryina Roshcha", 55.7940, 37.6160, ("Шереметьевская ул.",)),
)
CITY = "Москва"
BOUNDS = (55.60, 55.90, 37.40, 37.80)  # lat min, lat max, lon min, lon max

# Business names: «Пекарня «Колосок»» or "Crumb & Co Bakery", half each.
# fmt: off
NAMES_RU = (
    "Колосок", "Уют", "Ромашка", "Берёзка", "Калинка", "Весна", "Соседи", "Лайм", "Мята",
    "Корица", "Облако", "Маяк", "Граф", "Сезоны", "Причал", "Этаж", "Пульс", "Ритм", "Атлас",
    "Акварель", "Шафран", "Огонёк", "Рябина", "Черника", "Фасад", "Добрый дом", "Белый кот",
    "Северный ветер", "Горница", "Самовар",
)
NAMES_EN = (
    "Crumb & Co", "Green Leaf", "Blue Door", "Northside", "Maple", "Copper Kettle",
    "Silver Birch", "Urban", "Sunny Side", "Old Town", "Red Fox", "Brick Lane", "Linden",
    "Harbour", "Golden Hour", "Good Neighbour", "Corner", "Hillside", "Daily", "Bright",
    "Oak & Iron", "Lighthouse", "Little", "Velvet", "Pine", "Cloud Nine", "True North",
    "Wildflower", "Ember", "Fairway",
)
FIRST_NAMES_F = (
    "Анна", "Мария", "Елена", "Ольга", "Наталья", "Екатерина", "Анастасия", "Дарья", "Ксения",
    "Полина", "Татьяна", "Юлия", "Виктория", "Алина", "Софья",
)
FIRST_NAMES_M = (
    "Александр", "Дмитрий", "Максим", "Иван", "Артём", "Никита", "Михаил", "Сергей", "Андрей",
    "Алексей", "Павел", "Егор", "Кирилл", "Илья", "Роман",
)
# Male forms; the female form adds "а" (Иванов, Иванова).
LAST_NAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров",
)
MOBILE_CODES = (
    "903", "905", "906", "909", "910", "915", "916", "917", "925", "926", "977", "985", "999",
)
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")
TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}
# fmt: on
