"""Which sense a city name has where it stands: the place, or something named after it.

bot/news/gazetteer.py finds the names; the rules here reject the mentions that are not the
place, from the words around the name (RULES.md of the relevance corpus says what counts):

- a capital used for its government: the subject of a verb of saying or deciding ("Moscow
  says", "Tehran on Thursday rejected", "Москва заявила", "Будапешт знову заблокував"),
  "у Києві заявили" (officials, not events), the object of such a verb ("Kyiv asks Berlin
  for", "вимагає від Києва"), a party to relations ("exchange with Moscow", "переговори з
  Москвою"), a possessive of policy ("London's trade ban", "позиція Києва");
- an agency dateline at the start of a line ("KYIV, Oct 3 (Reuters) -", "Київ. 28 вересня.");
- clubs, companies and other names: "Dynamo Kyiv", "Real Madrid", "Дніпро-1", «Мілан»,
  "Mariupol Steel", "Zaporizhzhia nuclear plant", "PSG's win over Bratislava";
- a foreign region named like its capital ("the province of Valencia", "штат Вашингтон").

Verbs of deciding and acting ("extends", "выделит", "заблокував") mark the government only
for foreign capitals: "Kyiv extends the curfew" is news of the city. Every rule reads a few
words on either side of the match and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from bot.news.text import Tokens, at_sentence_start


def _en_forms(spec: str) -> frozenset[str]:
    """English verb forms from bases ("say said") with the regular endings added."""
    out: set[str] = set()
    for w in spec.split():
        out.add(w)
        if w.endswith("e"):
            out |= {w + "s", w + "d", w[:-1] + "ing"}
        elif w.endswith("y") and w[-2:-1] not in "aeiou":
            out |= {w[:-1] + "ies", w[:-1] + "ied", w + "ing"}
        elif w.endswith(("s", "sh", "ch", "x", "z", "o")):
            out |= {w + "es", w + "ed", w + "ing"}
        else:
            out |= {w + "s", w + "ed", w + "ing"}
    return frozenset(out)


# Verbs whose subject, said of a capital, is its government, wherever the capital is.
EN_GOV = _en_forms(
    "say said tell told agree warn want accuse deny refuse insist ask urge demand vow reject "
    "veto vetoed vetoes blacklist sanction summon condemn threaten claim retaliate expel "
    "expelled recognise recognize pledge protest slam slammed blame dismiss oppose respond "
    "reply hope believe seek sought offer propose target criticise criticize denounce "
    "reaffirm stress complain object negotiate press question rebuff admit acknowledge "
    "allege suggest signal fear think thought consider argue appeal invite decline "
    "welcome call warn demand")
# Verbs of deciding and acting: the government for a foreign capital ("Warsaw extends
# protection"), the city itself for Kyiv ("Kyiv extends the curfew").
EN_GOV_FOREIGN = EN_GOV | _en_forms(
    "extend add fund paid pay impose block blocked approve allocate ban banned banning "
    "send sent supply provide give gave given deliver buy bought sell sold order decide "
    "sign back support plan put putting speed sped adopt pass freeze froze seize deport "
    "recall boost raise transfer finance grant renew restrict tighten ease scrap cancel "
    "revoke withdraw withdrew deploy unveil keep kept join commit committed promise "
    "designate list sanction")
# The object of these is the government: "asks Berlin for", "accused Kyiv of".
EN_OBJECT = _en_forms(
    "ask urge warn accuse tell told blame criticise criticize condemn threaten sanction "
    "summon pressure press lobby implore beg agree negotiate")
EN_READY = frozenset({"ready", "willing", "unwilling", "prepared", "reluctant", "eager"})
EN_MOOD = frozenset({"noncommittal", "silent", "defiant", "adamant", "unmoved", "furious",
                     "outraged", "sceptical", "skeptical", "wary", "cautious"})
EN_FILLERS = frozenset({
    "has", "have", "had", "is", "was", "were", "are", "will", "would", "could", "should",
    "may", "might", "must", "can", "also", "again", "already", "now", "still", "formally",
    "officially", "reportedly", "repeatedly", "urgently", "not", "never", "firmly",
    "strongly", "quickly", "publicly", "then", "later", "earlier", "previously", "once",
    "too", "further", "swiftly", "immediately", "openly", "effectively", "does", "did", "do",
    "didn't", "doesn't", "hasn't", "haven't", "won't", "isn't", "wasn't", "been", "being",
    "today", "yesterday", "tonight", "finally", "just", "so", "far", "flatly", "sharply",
    "angrily", "quietly", "both", "duly", "long", "consistently", "categorically",
    "traditionally", "apparently", "allegedly", "increasingly",
})
WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                      "sunday", "понеділок", "вівторок", "середу", "четвер", "п'ятницю",
                      "суботу", "неділю", "понедельник", "вторник", "среду", "четверг",
                      "пятницу", "субботу", "воскресенье"})
# "London's trade ban", "Moscow's demands", "Kyiv's position": the policy of a government.
EN_POLICY = frozenset({
    "ban", "bans", "demand", "demands", "position", "stance", "policy", "policies",
    "decision", "decisions", "response", "refusal", "proposal", "proposals", "terror",
    "tactics", "campaign", "aggression", "invasion", "war", "forces", "troops", "army",
    "military", "allies", "partners", "sanctions", "claims", "accusations", "threats",
    "threat", "strategy", "doctrine", "regime", "propaganda", "government", "leadership",
    "envoy", "ambassador", "diplomats", "diplomacy", "negotiators", "veto", "offer",
    "request", "ultimatum", "objections", "warning", "warnings", "retaliation", "reaction",
    "interference", "pressure", "concessions", "stand", "line", "narrative", "intentions",
    "approval", "backing", "refusals", "reply", "plans", "bid", "attempt", "attempts",
    "efforts", "intelligence", "spies", "agents", "allegations", "denial", "foreign",
})
# "exchange with Moscow", "sanctions on Moscow", "aid to Kyiv": a party to relations.
EN_RELATION = frozenset({
    "exchange", "exchanges", "talks", "relations", "ties", "war", "deal", "deals",
    "agreement", "dialogue", "negotiations", "dispute", "contacts", "cooperation", "treaty",
    "swap", "trade", "row", "standoff", "rift", "sanctions", "pressure", "tariffs",
    "restrictions", "embargo", "demands", "accusations", "claims", "request", "appeal",
    "message", "ultimatum", "aid", "support", "assistance", "loan", "loans", "weapons",
    "arms", "concessions", "pact", "accord", "truce", "ceasefire", "peace", "alliance",
    "partnership", "diplomacy", "confrontation", "feud", "split", "tensions",
})
# "the Kyiv government", "the Moscow regime", "Київ офіційний"
GOV_NOUNS_AFTER = frozenset({"government", "regime", "leadership", "diplomats", "diplomacy",
                             "envoy", "envoys", "negotiators", "офіційний", "официальный"})
EN_REL_PREP = frozenset({"with", "on", "against", "to", "from"})
# Who speaks "in Brussels": officials are the government, residents are the city.
EN_SPEAKERS = frozenset({"officials", "diplomats", "sources", "authorities", "government",
                         "ministry", "leaders", "politicians", "lawmakers", "insiders",
                         "spokesman", "spokeswoman", "spokesperson", "official", "diplomat",
                         "source", "analysts", "observers", "policymakers"})
# The capital is the object of an attack or a visit, never a speaker.
EN_NOT_SUBJECT_BEFORE = frozenset({"the", "a", "an", "hit", "hits", "strike", "strikes",
                                   "struck", "attack", "attacks", "attacked", "pound",
                                   "pounded", "shell", "shelled", "bomb", "bombed", "target",
                                   "targets", "targeted", "visit", "visits", "visited",
                                   "reach", "reached", "reaching", "left", "leave", "fled",
                                   "flee", "entered", "enter"})
# After the capital: its people and services, never the government ("Kyiv residents").
CITY_NOUNS_AFTER = frozenset({
    "residents", "resident", "mayor", "city", "region", "oblast", "metro", "citizens",
    "people", "streets", "district", "districts", "suburbs", "airport", "airports", "center",
    "centre", "hospitals", "schools", "time", "police", "council", "мешканців", "мешканці",
    "жителей", "жители", "жителям", "мешканцям", "киян", "кияни", "москвичей", "москвичи",
})

# --- Ukrainian and Russian ----------------------------------------------------------

# A verb form ends so (past, present and future 3rd person, reflexive): "заявив",
# "заявила", "вважає", "считают", "согласилась", "выделит". Nouns (заява, отказ) do not.
_CYR_VERB_END = re.compile(r"(?:в|вши|ла|ло|ли|л|є|ає|ють|ять|ать|уть|ить|ит|ет|ут|ют|ат|ят|"
                           r"ме|муть)(?:ся|сь)?$")
_CYR_INFINITIVE = re.compile(r"(?:ти|ть|чь)(?:ся|сь)?$")
# Stems of verbs of saying and of taking a stand: the government for any capital.
CYR_GOV = (
    "заяв", "вважа", "счита", "погоди", "погодж", "соглас", "наполяг", "настаи", "настоя",
    "відмов", "отказ", "вимага", "вимаг", "требова", "требу", "потребува", "відкину",
    "відкида", "отверг", "отклони", "отклоня", "відхили", "відхиля", "пригрози", "погрож",
    "угрожа", "пообіця", "обіця", "пообеща", "обеща", "закли", "призва", "призыва",
    "критику", "розкритику", "раскритикова", "критикова", "звинува", "звинувачу", "обвини",
    "обвиня", "наголоси", "наголошу", "подчеркива", "подчеркну", "попереди", "попереджа",
    "предупреди", "предупрежда", "застеріг", "визнав", "визнає", "визнала", "визнали",
    "визнають", "признал", "признае", "признаю", "відповів", "відповіла", "відповіли",
    "відповідає", "ответил", "ответит", "ответя", "ответи", "відповість", "висловив",
    "висловил", "выразил", "висловлю", "протесту", "засуди", "засуджу", "осуди", "осужда",
    "заперечу", "запереч", "опроверг", "спростува", "спростову", "сподіва", "надеет",
    "надеют", "надеял", "пропону", "запропону", "предлага", "предложи", "допуска",
    "допусти", "виключа", "исключа", "домага", "добива", "висуну", "выдвину", "звернул",
    "звернув", "обратил", "підтрима", "підтриму", "поддержа", "поддержива", "попроси",
    "попросил", "проси", "просять", "хоче", "хочуть", "хочет", "хотят", "хотіл", "хотел",
    "вирішил", "вирішив", "решил", "наполяга", "погрози", "пригрозил", "обурил", "возмути",
    "розкритикува", "дорікну", "упрекну", "дозволи", "разреши", "погодил", "домови",
    "договори", "ухвали", "розгляда", "рассматрива", "вимагатиме", "виступи", "выступи",
    "виступа", "выступа", "підтверди", "подтверди", "наполіг", "настоял", "ініціюва",
    "инициирова", "вислови", "виклика", "викликав", "вызва", "вызыва", "отрица", "обменя",
    "потребова", "обміня",
)
# Stems of verbs of acting: the government only for a foreign capital.
CYR_GOV_FOREIGN = (
    *CYR_GOV, "ввел", "ввела", "ввели", "ввод", "запровади", "запроваджу", "заблок", "блоку",
    "блокир", "выдели", "выделя", "виділи", "виділя", "одобри", "одобря", "схвали", "схваллю",
    "затверди", "утверди", "запрети", "запреща", "заборони", "забороня", "переда", "надаст",
    "нада", "предостав", "продли", "продовжи", "продовжу", "продлева", "постави", "поставля",
    "профінансу", "фінансу", "профинансир", "финансир", "купи", "придба", "прода", "выслал",
    "висла", "заморози", "заморожу", "замороз", "внес", "вніс", "внесл", "добави", "додав",
    "додала", "додали", "расшири", "розшири", "усили", "посили", "запроси", "пригласи",
    "прийня", "приня", "скасува", "отмени", "відклика", "отозва", "відклика", "вислав",
    "оголоси", "объяви", "відправ", "отправ", "направи", "надісла", "пообіцяв",
)
CYR_READY = frozenset({"готов", "готова", "готово", "готовы", "готовий", "готові", "готове"})
CYR_FILLERS = frozenset({
    "знову", "знов", "вкотре", "вже", "уже", "також", "тоже", "также", "теж", "ще", "еще",
    "офіційно", "официально", "не", "нібито", "якобы", "рішуче", "решительно", "публічно",
    "публично", "вчетверте", "втретє", "вдруге", "впервые", "вперше", "снова", "вновь",
    "опять", "сьогодні", "сегодня", "вчера", "вчора", "категорично", "категорически",
    "фактично", "фактически", "остаточно", "окончательно", "наразі", "поки", "пока",
    "нарешті", "наконец", "однозначно", "прямо", "відкрито", "открыто", "жорстко", "жестко",
    "різко", "резко", "в", "у", "во", "раніше", "ранее", "поспіхом", "терміново", "срочно",
    "все", "таки", "навіть", "даже", "же", "ж", "вчетвертое", "традиционно", "традиційно",
    "давно", "неодноразово", "регулярно", "активно", "последовательно", "послідовно",
    "по", "прежнему", "досі", "дотепер", "попрежнему",
})
# "у Києві заявили", "в Берлине считают": impersonal speech = the officials there.
CYR_SPEECH = (
    "заяв", "вважа", "счита", "наголош", "подчерк", "отмеча", "відзнача", "назва", "наполяга",
    "настаива", "підкресл", "уточни", "уточню", "поясни", "поясню", "признал", "признаю",
    "визнал", "визнаю", "попереди", "попереджа", "предупре", "пообіця", "пообеща",
    "відповіл", "ответил", "запереч", "отрица", "опроверг", "спростов", "спростув",
    "розкритику", "раскритикова", "сподіва", "надеют", "вирішил", "решил", "допуска",
    "виключа", "исключа", "вимага", "требу", "хочуть", "хотят", "погодил", "согласил",
    "відмовил", "отказал", "розраховую", "рассчитыва", "висловил", "выразил", "обіця",
    "обеща", "пригрози", "погрожу", "угрожа", "відкида", "отверга", "відреагува",
    "отреагирова", "прокоментува", "прокомментирова", "заверил", "запевни", "дали понять",
    "натякну", "намекну", "пояснил", "объясни", "переконані", "убежден",
)
CYR_SPEECH_MOOD = frozenset({"стурбовані", "обеспокоены", "впевнені", "уверены",
                             "переконані", "убеждены", "обурені", "возмущены", "готові",
                             "готовы", "незадоволені", "недовольны", "розчаровані",
                             "разочарованы", "занепокоєні"})
# "шукають способи" / "ищут пути": looking for ways is deciding, not searching the streets
CYR_SEEK = ("шука", "ищ")
CYR_WAYS = ("спос", "шлях", "варіант", "можлив", "пут", "возможн", "вариант", "механізм",
            "механизм", "рішен", "решен", "вихід", "выход")
# "позиція Києва", "звинувачення Києва", "требования Москвы": the policy of a government.
CYR_POLICY = (
    "позиці", "позици", "вимог", "требовани", "звинувачен", "обвинени", "рішенн", "решени",
    "заяв", "відповід", "ответ", "пропозиці", "предложени", "погроз", "угроз", "відмов",
    "отказ", "політик", "политик", "агресі", "агресси", "ультиматум", "вето", "претензі",
    "претензи", "ініціатив", "инициатив", "тиск", "давлени", "реакці", "реакци", "дії",
    "действи", "запит", "запрос", "прохан", "просьб", "наполяган",
    "настояни", "санкці", "санкци", "курс", "лінія", "линия", "лінії", "линии", "режим",
    "пропаганд", "офіційн", "официальн", "представник", "представител", "посланц", "посол",
    "посла",
)
# "переговори з Москвою", "отношения с Киевом", "домовився з Києвом": a party to relations.
CYR_RELATION = (
    "переговор", "відносин", "отношени", "обмін", "обмен", "угод", "соглашени", "договор",
    "договір", "діалог", "диалог", "війн", "войн", "конфлікт", "конфликт", "торгівл",
    "торговл", "контакт", "співпрац", "сотрудничеств", "спор", "суперечк", "домовленост",
    "договоренност", "домови", "договори", "конфронтаці", "конфронтаци", "розрив", "разрыв",
    "напруж", "напряж", "торгу", "торгова",
)
CYR_REL_PREP = frozenset({"з", "із", "зі", "с", "со"})
CYR_OBJ_PREP = frozenset({"від", "от", "у", "к", "до", "перед", "на"})
CYR_LOCATIVE = frozenset({"у", "в", "во"})

# --- datelines, clubs, companies, regions ---------------------------------------------

_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|"
    r"січня|лютого|березня|квітня|травня|червня|липня|серпня|вересня|жовтня|листопада|"
    r"грудня|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|"
    r"декабря")
# After the city: ", Oct 3", ". 28 вересня.", ", 11 ноября", " (AP) —", " (Reuters) -".
_DATELINE_AFTER = re.compile(
    rf"\s*(?:[,.]\s*(?:\d{{1,2}}\s*)?(?:{_MONTHS})\b|[,.]?\s*\([^()\n]{{1,30}}\)\s*[-—–.:/])",
    re.IGNORECASE)
_CAPS_DATELINE_AFTER = re.compile(r"\s*(?:,|[-—–]\s|\()")

# Clubs: "Dynamo Kyiv", "Shakhtar Donetsk", "Real Madrid", "Bayern Munich", "ФК Дніпро".
CLUB_BEFORE = frozenset({  # the short ones count only in capitals ("AS Roma", not "As")
    "fc", "фк", "sc", "ск", "cf", "ac", "as", "afc", "real", "dynamo", "dinamo", "динамо",
    "shakhtar", "шахтар", "шахтер", "bayern", "баварія", "бавария", "slovan", "слован",
    "spartak", "спартак", "cska", "цска", "lokomotiv", "локомотив", "zenit", "зенит",
    "зеніт", "olympique", "sporting", "atletico", "athletic", "inter", "borussia", "hertha",
    "union", "metalist", "металіст", "металлист", "zorya", "зоря", "заря", "kolos", "колос",
    "rukh", "рух", "vorskla", "ворскла", "polissya", "полісся", "полесье", "chornomorets",
    "чорноморець", "черноморец", "karpaty", "карпати", "карпаты", "olimpik", "олімпік",
    "veres", "верес", "kryvbas", "кривбас", "inhulets", "інгулець", "slavia", "славія",
    "славия", "sparta", "спарта", "legia", "легія", "легия", "ajax", "аякс", "star",
    "steaua", "partizan", "партизан", "torpedo", "торпедо", "rapid", "рапід", "рапид",
    "galatasaray", "fenerbahce", "besiktas", "olympiacos", "panathinaikos", "benfica",
    "celtic", "lazio", "hapoel", "maccabi", "budivelnyk", "будівельник", "obolon",
    "оболонь", "desna", "десна", "mynai", "минай", "livyi", "lnz", "лнз", "oleksandriya",
    "олександрія", "zirka", "зірка", "hoverla", "говерла", "metalurh", "металург",
    "arsenal", "арсенал", "ferencvaros", "ференцварош", "dnipro", "дніпро", "днепр",
})
CLUB_AFTER = frozenset({"fc", "cf", "sc", "united", "hotspur", "wanderers", "rovers",
                        "albion", "фк"})
# Companies named after a city: "Mariupol Steel", "Moscow Exchange", "Lviv Croissants".
COMPANY_AFTER = frozenset({
    "steel", "bank", "group", "holding", "holdings", "airlines", "airways", "motors",
    "pharma", "pharmaceuticals", "exchange", "capital", "croissants", "brewery",
    "breweries", "ltd", "inc", "corp", "corporation", "company", "industries",
    "investments", "telecom", "insurance", "metallurgical", "ironworks", "steelworks",
    "mining", "foods", "chocolate", "cosmetics",
})
NUCLEAR_AFTER = frozenset({"nuclear", "npp", "aes", "аес", "аэс"})
# A sports result: "PSG's win over Bratislava", "beat Bayern", "обіграв «Мілан»".
SPORT_BEFORE = frozenset({
    "beat", "beats", "beating", "defeated", "defeats", "thrashed", "thrash", "edged",
    "routed", "hammered", "eliminated", "outplayed", "vs", "v", "versus", "обіграв",
    "обіграла", "обіграли", "обыграл", "обыграла", "обыграли", "розгромив", "розгромила",
    "разгромил", "разгромила", "переміг", "перемогла", "победил", "победила",
})
SPORT_PAIRS = frozenset({("win", "over"), ("wins", "over"), ("victory", "over"),
                         ("loss", "to"), ("lost", "to"), ("losing", "to"), ("defeat", "to"),
                         ("draw", "with"), ("drew", "with"), ("draw", "against"),
                         ("drew", "against"), ("tie", "with"), ("перемога", "над"),
                         ("перемогу", "над"), ("победа", "над"), ("победу", "над"),
                         ("нічия", "з"), ("ничья", "с")})
# "the province of Valencia", "штат Вашингтон": the region, not its capital city.
REGION_OF = frozenset({"province", "region", "state", "county", "governorate", "prefecture",
                       "department", "canton", "voivodeship"})
REGION_BEFORE = frozenset({"провінції", "провинции", "провінція", "провинция", "провінцію",
                           "провинцию", "штат", "штату", "штаті", "штате", "штата",
                           "штатом", "графстві", "графстве", "воєводстві", "воеводстве",
                           "воєводства", "воеводства", "провінцією", "провинцией"})

_OPEN_QUOTES = "«„“\""
_CLOSE_QUOTES = "»“”\""


def _starts(word: str, stems: Iterable[str]) -> bool:
    return any(word.startswith(s) for s in stems)


def is_cyr_verb(word: str, stems: Iterable[str]) -> bool:
    """A Ukrainian or Russian verb form of one of these stems ("заявила", not "заява")."""
    return bool(_CYR_VERB_END.search(word)) and _starts(word, stems)


class Context:
    """The words around one match: norms before and after, and the text between them."""

    __slots__ = ("end", "first", "last", "norms", "tokens")

    def __init__(self, tokens: Tokens, i: int, k: int) -> None:
        self.tokens = tokens
        self.norms = tokens.norms
        self.first, self.last = i, i + k - 1
        self.end = i + k

    def word(self, j: int) -> str:
        return self.norms[j] if 0 <= j < len(self.norms) else ""

    def before(self, n: int = 1) -> str:
        """The n-th word before the match ("" at the start)."""
        return self.word(self.first - n)

    def after(self, n: int = 1) -> str:
        """The n-th word after the match ("" at the end)."""
        return self.word(self.last + n)

    def joined(self, a: int, b: int) -> bool:
        """Words a..b stand together (only spaces and hyphens between)."""
        return 0 <= a <= b < len(self.norms) and self.tokens.joined(a, b - a + 1)

    def raw(self, j: int) -> str:
        """Word j as written."""
        t = self.tokens
        return t.text[t.start(j):t.end(j)]

    def capitalized(self, j: int) -> bool:
        return 0 <= j < len(self.norms) and self.raw(j)[:1].isupper()


# --- the government sense -------------------------------------------------------------


def government(ctx: Context, cyrillic: bool, nominative: bool, foreign: bool) -> bool:
    """A capital that stands for its government here (see the module doc)."""
    if cyrillic:
        return _gov_cyr(ctx, nominative, foreign)
    return _gov_en(ctx, foreign)


def _gov_en(ctx: Context, foreign: bool) -> bool:
    t = ctx.tokens
    text = t.text
    after = text[t.end(ctx.last):t.end(ctx.last) + 2]
    prev, prev2 = ctx.before(1), ctx.before(2)
    nxt = ctx.after(1)
    if nxt in CITY_NOUNS_AFTER:
        return False
    if nxt in GOV_NOUNS_AFTER and ctx.joined(ctx.last, ctx.end):
        return True
    verbs = EN_GOV_FOREIGN if foreign else EN_GOV
    if after in ("'s", "’s", "ʼs"):  # "London's trade ban", "Moscow's new campaign"
        for j in range(ctx.end, min(ctx.end + 3, len(ctx.norms))):
            if not ctx.joined(ctx.end, j):
                break
            if ctx.norms[j] in EN_POLICY:
                return True
        return False
    # the object of a verb of saying, or a party to relations: "asks Berlin for",
    # "exchange with Moscow", "trade war with Washington", "aid to Kyiv"
    if ctx.first > 0 and ctx.joined(ctx.first - 1, ctx.first):
        if prev in EN_OBJECT and nxt in ("for", "to", "of", "against", "that", "not", "over",
                                          "on", "about", "and", ""):
            return True
        if prev in ("with", "from", "to") and ctx.before(2) in EN_OBJECT \
                and ctx.joined(ctx.first - 2, ctx.first):
            return True
        if prev in EN_REL_PREP and prev2 in EN_RELATION and ctx.joined(ctx.first - 2,
                                                                        ctx.first):
            return True
        if _between(ctx, "between", "and", EN_RELATION.__contains__):
            return True
    # "officials in Brussels said"
    if prev == "in" and prev2 in EN_SPEAKERS and _en_verb_follows(ctx, ctx.end, EN_GOV):
        return True
    if prev in EN_NOT_SUBJECT_BEFORE or prev in _EN_PREPOSITIONS:
        return False
    j = ctx.end
    # "Madrid and Morocco were warned": a coordinated subject
    if ctx.word(j) in ("and", "or") and ctx.capitalized(j + 1):
        j += 2
        while j < len(ctx.norms) and ctx.capitalized(j) and j < ctx.end + 4:
            j += 1
    if _en_verb_follows(ctx, j, verbs):
        return True
    # a headline's "Kyiv to speed up", "London to fund": acting verbs count for Kyiv too,
    # since a city's own plans ("Kyiv to ban fireworks") are told in the text as well
    if ctx.word(ctx.end) == "to" and ctx.joined(ctx.last, ctx.end + 1) \
            and at_sentence_start(text, t.start(ctx.first)):
        return ctx.word(ctx.end + 1) in EN_GOV_FOREIGN
    return False


_EN_PREPOSITIONS = frozenset({"in", "near", "outside", "from", "to", "at", "around", "into",
                              "of", "across", "toward", "towards", "on", "over", "via",
                              "through", "between", "for", "by", "under", "above", "about",
                              "against", "with", "within", "beyond", "past", "behind"})


def _between(ctx: Context, between: str | tuple[str, ...], and_: str | tuple[str, ...],
             relation: Callable[[str], bool]) -> bool:
    """'talks between Kyiv and Moscow', 'відносини між Києвом і Варшавою': both parties."""
    prev, prev2 = ctx.before(1), ctx.before(2)
    if prev in between and relation(prev2):  # the first party
        return ctx.joined(ctx.first - 2, ctx.first)
    # the second: "<relation> between X and <us>", X one or two words
    if prev not in and_:
        return False
    for n in (3, 4):
        if ctx.before(n) in between and relation(ctx.before(n + 1)):
            return ctx.joined(ctx.first - n - 1, ctx.first)
    return False


def _en_verb_follows(ctx: Context, j: int, verbs: frozenset[str]) -> bool:
    """From word j on: fillers ("has", "again", "on Tuesday"), then a verb of the set."""
    n = len(ctx.norms)
    start = j
    while j < n and j - start < 5:
        w = ctx.norms[j]
        if w in EN_FILLERS:
            j += 1
        elif w in ("on", "last", "this") and ctx.word(j + 1) in WEEKDAYS | {"week", "month"}:
            j += 2
        else:
            break
    if j >= n or not ctx.joined(ctx.last, j):
        return False
    w = ctx.norms[j]
    if w in verbs or w in EN_MOOD:
        return True
    return w in EN_READY and ctx.word(j + 1) == "to"


def _gov_cyr(ctx: Context, nominative: bool, foreign: bool) -> bool:
    prev, prev2 = ctx.before(1), ctx.before(2)
    nxt = ctx.after(1)
    if nxt in CITY_NOUNS_AFTER:
        return False
    verbs = CYR_GOV_FOREIGN if foreign else CYR_GOV
    if nxt in GOV_NOUNS_AFTER and ctx.joined(ctx.last, ctx.end):
        return True
    joined_before = ctx.first > 0 and ctx.joined(ctx.first - 1, ctx.first)
    if joined_before and prev.startswith(("офіційн", "официальн")):
        return True  # "офіційного Києва", "официальная Варшава"
    if joined_before:
        # "звинувачення Києва", "позиція Москви", "требования Москвы"
        if _starts(prev, CYR_POLICY) and len(prev) <= 13 and not nominative:
            return True
        # "закликав Київ", "вимагає від Києва", "попросил у Берлина"
        if is_cyr_verb(prev, CYR_GOV) and prev not in CYR_FILLERS:
            return True
        if prev in CYR_OBJ_PREP and is_cyr_verb(prev2, CYR_GOV) \
                and ctx.joined(ctx.first - 2, ctx.first):
            return True
        # "переговори з Москвою", "відносини з Києвом", "домовився з Москвою"
        if prev in CYR_REL_PREP and _starts(prev2, CYR_RELATION) \
                and ctx.joined(ctx.first - 2, ctx.first):
            return True
        if _between(ctx, ("між", "между"), ("і", "й", "та", "и"),
                    lambda w: _starts(w, CYR_RELATION)):
            return True
        # "заявили в Киеве": the speech comes first
        if prev in CYR_LOCATIVE and is_cyr_verb(prev2, CYR_SPEECH) \
                and ctx.joined(ctx.first - 2, ctx.first) and prev2.endswith(("ли", "ть", "ют")):
            return True
    if prev in CYR_LOCATIVE and not nominative and _impersonal(ctx):
        # "у Києві заявили", "в Берлине считают", "у Брюсселі шукають способи"
        j = ctx.end
        while ctx.word(j) in CYR_FILLERS - CYR_LOCATIVE and j < ctx.end + 3:
            j += 1
        if not ctx.joined(ctx.last, j):
            return False
        w = ctx.word(j)
        if w in CYR_SPEECH_MOOD:
            return True
        if is_cyr_verb(w, CYR_SPEECH) and w.endswith(("ли", "ть", "ют", "ют", "ся", "сь")):
            return True
        return _starts(w, CYR_SEEK) and _starts(ctx.word(j + 1), CYR_WAYS)
    if not nominative or prev in CYR_LOCATIVE or prev in CYR_OBJ_PREP:
        return False
    # the subject: "Москва заявила", "Будапешт знову заблокував", "Анкара готова принять"
    j = ctx.end
    if ctx.word(j) in ("і", "й", "та", "и") and ctx.capitalized(j + 1):
        j += 2  # "Киев и Москва обменялись": a coordinated subject
    while ctx.word(j) in CYR_FILLERS and j < ctx.end + 5:
        j += 1
    if not ctx.joined(ctx.last, j):
        return False
    w = ctx.word(j)
    if w in CYR_READY:
        k = j + 1
        while ctx.word(k) in CYR_FILLERS and k < j + 3:
            k += 1
        return bool(_CYR_INFINITIVE.search(ctx.word(k)))
    return is_cyr_verb(w, verbs)


# Words that may stand before an impersonal "у Києві заявили" (no subject of its own).
CYR_CLAUSE_OPENERS = frozenset({
    "а", "але", "однак", "однако", "но", "водночас", "натомість", "тим", "тем", "при",
    "этом", "часом", "временем", "також", "также", "і", "и", "та", "й", "ще", "еще", "вже",
    "уже", "же", "ж", "зокрема", "частности", "тому", "поэтому", "тож", "потім", "затем",
    "раніше", "ранее", "згодом", "позже", "проте", "впрочем", "зате", "как", "як",
})


def _impersonal(ctx: Context) -> bool:
    """The "у/в" before the city opens its clause: "У Києві заявили", "..., а в Берлине
    считают"; not "Протестувальники у Варшаві вимагали" (the protesters speak)."""
    p = ctx.first - 1
    t = ctx.tokens
    if p == 0 or at_sentence_start(t.text, t.start(p)):
        return True
    if ctx.word(p - 1) in CYR_CLAUSE_OPENERS:
        return True
    return "," in t.text[t.end(p - 1):t.start(p)]


# --- datelines, named things, regions ----------------------------------------------------


def is_dateline(ctx: Context) -> bool:
    """'KYIV, Oct 3 (Reuters) -', 'Київ. 28 вересня. УНІАН.' at the start of a line."""
    t = ctx.tokens
    text = t.text
    start = t.start(ctx.first)
    line_start = text.rfind("\n", 0, start) + 1
    if text[line_start:start].strip(" \t\u00a0"):
        return False
    end = t.end(ctx.last)
    tail = text[end:end + 48]
    if _DATELINE_AFTER.match(tail):
        return True
    word = text[start:end]
    return word.isupper() and len(word) > 2 and bool(_CAPS_DATELINE_AFTER.match(tail))


def named_thing(ctx: Context) -> bool:
    """A club, a company, a power plant or another name that carries a city's name."""
    t = ctx.tokens
    text = t.text
    prev, nxt = ctx.before(1), ctx.after(1)
    end = t.end(ctx.last)
    if prev in CLUB_BEFORE and ctx.capitalized(ctx.first - 1) \
            and not text[t.end(ctx.first - 1):t.start(ctx.first)].strip(" \u00a0»”\"") \
            and (len(prev) > 3 or ctx.raw(ctx.first - 1).isupper()):  # "AS Roma", not "As"
        return True
    if nxt and ctx.joined(ctx.last, ctx.last + 1):
        gap = text[end:t.start(ctx.last + 1)]
        if gap == "-" and nxt.isdigit():  # "Дніпро-1"
            return True
        if nxt in CLUB_AFTER or nxt in NUCLEAR_AFTER:
            return True
        if nxt == "saint" and ctx.after(2) == "germain":
            return True
        if nxt in COMPANY_AFTER and ctx.capitalized(ctx.last + 1):
            return True
    if ctx.first > 0 and ctx.joined(ctx.first - 1, ctx.first):
        if prev in SPORT_BEFORE:
            return True
        if (ctx.before(2), prev) in SPORT_PAIRS and ctx.joined(ctx.first - 2, ctx.first):
            return True
    return _short_quote(text, t.start(ctx.first), end) or _club_city(text, t.start(ctx.first),
                                                                     end)


def _short_quote(text: str, start: int, end: int) -> bool:
    """The name stands in a short quoted name: «Мілан», «Кредит Дніпро», «Дніпро-1»."""
    before = text[max(0, start - 30):start]
    if not any(q in before for q in _OPEN_QUOTES):  # the usual case, at C speed
        return False
    i = start - 1
    while i >= 0 and start - i <= 30:
        ch = text[i]
        if ch in _OPEN_QUOTES:
            break
        if ch in ".!?\n»”":
            return False
        i -= 1
    else:
        return False
    if i < 0:
        return False
    j = end
    while j < len(text) and j - end <= 30:
        ch = text[j]
        if ch in _CLOSE_QUOTES:
            break
        if ch in ".!?\n«„":
            return False
        j += 1
    else:
        return False
    if j >= len(text):
        return False
    inner = text[i + 1:j].split()
    return 0 < len(inner) <= 3 and all(w[:1].isupper() or w[:1].isdigit() for w in inner)


def _club_city(text: str, start: int, end: int) -> bool:
    """«Шахтар» (Донецьк): a city in brackets right after a quoted club."""
    if text[start - 1:start] != "(" or text[end:end + 1] != ")":
        return False
    return text[:start - 1].rstrip()[-1:] in "»”\""


def foreign_region(ctx: Context) -> bool:
    """'the province of Valencia', 'штат Вашингтон', 'Washington state': the region named
    like its city."""
    prev = ctx.before(1)
    if prev in REGION_BEFORE and ctx.joined(ctx.first - 1, ctx.first):
        return True
    if ctx.after(1) in ("state", "province") and not ctx.capitalized(ctx.last + 1) \
            and ctx.joined(ctx.last, ctx.last + 1):
        return True
    return prev == "of" and ctx.before(2) in REGION_OF and ctx.joined(ctx.first - 2, ctx.first)
