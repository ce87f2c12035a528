"""Hand-kept facts for scripts/build_ukraine.py: only what the codifier and the packages lack.

Every table is facts, one source line each. The build checks each entry against the
codifier (the new name must exist in that oblast) and says so when one does not.
"""

from __future__ import annotations

# Renamed towns: (old Ukrainian, old Russian, old Latin spellings, current Ukrainian,
# oblast code prefix, source). Oblast prefixes are the codifier's first four characters.
RENAMED: list[tuple[str, str, tuple[str, ...], str, str, str]] = [
    ("Артемівськ", "Артемовск", ("Artemivsk", "Artemovsk"), "Бахмут", "UA14",
     "Verkhovna Rada resolution of 4 Feb 2016 (decommunization)"),
    ("Дзержинськ", "Дзержинск", ("Dzerzhynsk", "Dzerzhinsk"), "Торецьк", "UA14",
     "Verkhovna Rada resolution of 4 Feb 2016 (decommunization)"),
    ("Іллічівськ", "Ильичевск", ("Illichivsk", "Ilyichevsk", "Ilichevsk"), "Чорноморськ",
     "UA51", "Verkhovna Rada resolution of 4 Feb 2016 (decommunization)"),
    ("Красний Лиман", "Красный Лиман", ("Krasnyi Lyman", "Krasny Liman"), "Лиман", "UA14",
     "Verkhovna Rada resolution of 4 Feb 2016 (decommunization)"),
    ("Дніпропетровськ", "Днепропетровск", ("Dnipropetrovsk", "Dnepropetrovsk"), "Дніпро",
     "UA12", "Verkhovna Rada resolution of 19 May 2016 (decommunization)"),
    ("Дніпродзержинськ", "Днепродзержинск", ("Dniprodzerzhynsk", "Dneprodzerzhinsk"),
     "Кам'янське", "UA12", "Verkhovna Rada resolution of 19 May 2016 (decommunization)"),
    ("Комсомольськ", "Комсомольск", ("Komsomolsk",), "Горішні Плавні", "UA53",
     "Verkhovna Rada resolution of 19 May 2016 (decommunization)"),
    ("Красноармійськ", "Красноармейск", ("Krasnoarmiisk", "Krasnoarmeysk", "Krasnoarmeisk"),
     "Покровськ", "UA14", "Verkhovna Rada resolution of 12 May 2016 (decommunization)"),
    ("Димитров", "Димитров", ("Dymytrov", "Dimitrov"), "Мирноград", "UA14",
     "Verkhovna Rada resolution of 12 May 2016 (decommunization)"),
    ("Стаханов", "Стаханов", ("Stakhanov",), "Кадіївка", "UA44",
     "Verkhovna Rada resolution of 12 May 2016 (decommunization)"),
    ("Краснодон", "Краснодон", ("Krasnodon",), "Сорокине", "UA44",
     "Verkhovna Rada resolution of 12 May 2016 (decommunization)"),
    ("Свердловськ", "Свердловск", ("Sverdlovsk",), "Довжанськ", "UA44",
     "Verkhovna Rada resolution of 12 May 2016 (decommunization)"),
    ("Кіровоград", "Кировоград", ("Kirovohrad", "Kirovograd"), "Кропивницький", "UA35",
     "Verkhovna Rada resolution of 14 Jul 2016 (decommunization)"),
    ("Котовськ", "Котовск", ("Kotovsk",), "Подільськ", "UA51",
     "Verkhovna Rada resolution of 2016 (decommunization)"),
    ("Кузнецовськ", "Кузнецовск", ("Kuznetsovsk",), "Вараш", "UA56",
     "Verkhovna Rada resolution of 2016 (decommunization)"),
    ("Орджонікідзе", "Орджоникидзе", ("Ordzhonikidze",), "Покров", "UA12",
     "Verkhovna Rada resolution of 2016 (decommunization)"),
    ("Цюрупинськ", "Цюрупинск", ("Tsiurupynsk", "Tsyurupinsk"), "Олешки", "UA65",
     "Verkhovna Rada resolution of 2016 (decommunization)"),
    ("Щорс", "Щорс", ("Shchors",), "Сновськ", "UA74",
     "Verkhovna Rada resolution of 2016 (decommunization)"),
    ("Переяслав-Хмельницький", "Переяслав-Хмельницкий", ("Pereiaslav-Khmelnytskyi",),
     "Переяслав", "UA32", "Verkhovna Rada resolution of 2019"),
    ("Новоград-Волинський", "Новоград-Волынский", ("Novohrad-Volynskyi",), "Звягель", "UA18",
     "Verkhovna Rada resolution of 16 Jun 2022"),
    ("Володимир-Волинський", "Владимир-Волынский", ("Volodymyr-Volynskyi",
                                                     "Vladimir-Volynsky"), "Володимир", "UA07",
     "Verkhovna Rada resolution of 2021"),
    ("Червоноград", "Червоноград", ("Chervonohrad",), "Шептицький", "UA46",
     "Verkhovna Rada resolution of 19 Sep 2024 (decolonization of place names)"),
    ("Новомосковськ", "Новомосковск", ("Novomoskovsk",), "Самар", "UA12",
     "Verkhovna Rada resolution of 19 Sep 2024 (decolonization of place names)"),
    ("Красноград", "Красноград", ("Krasnohrad", "Krasnograd"), "Берестин", "UA63",
     "Verkhovna Rada resolution of 19 Sep 2024 (decolonization of place names)"),
    ("Южноукраїнськ", "Южноукраинск", ("Yuzhnoukrainsk",), "Південноукраїнськ", "UA48",
     "Verkhovna Rada resolution of 19 Sep 2024 (decolonization of place names)"),
    ("Сєвєродонецьк", "Северодонецк", ("Sievierodonetsk", "Severodonetsk"),
     "Сіверськодонецьк", "UA44", "KATOTTG 2025 (renamed in 2024)"),
]

# Names of an oblast other than its adjective (news: "на Волині", "Закарпаття",
# "на Буковині", "Прикарпаття", "Крим"): oblast prefix -> (uk, ru, Latin). These are the
# usual names of the historical lands that each of these oblasts stands for in the news.
OBLAST_ALIASES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "UA01": (("Крим",), ("Крым",), ("Crimea", "Krym")),
    "UA07": (("Волинь",), ("Волынь",), ("Volyn", "Volhynia")),
    "UA21": (("Закарпаття",), ("Закарпатье",), ("Zakarpattia", "Transcarpathia")),
    "UA26": (("Прикарпаття",), ("Прикарпатье",), ("Prykarpattia",)),
    "UA73": (("Буковина",), ("Буковина",), ("Bukovina", "Bukovyna")),
    "UA14": (("Донетчина",), ("Донеччина",), ()),
}

# A raion named after its centre where the adjective is not made regularly from it.
RAION_CENTRES = {"Білоцерківський": "Біла Церква", "Криворізький": "Кривий Ріг",
                 "Самарівський": "Самар"}
