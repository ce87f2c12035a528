"""Extractive summaries: the lead sentences, or the sentences about one city or topic."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.news.clean import strip_dateline

# Words after which a period does not end a sentence (compared lower-case, without the dot).
_ABBREVIATIONS = frozenset("""
mr mrs ms dr prof sr jr st mt gen lt col maj capt sgt cmdr adm gov sen rep pres rev hon
u.s u.k u.n e.u u.s.a no nos vol fig approx est inc ltd corp co vs etc e.g i.e cf al jan feb
mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun a.m p.m
т.е т.д т.п т.к т.ч т.н г гг ул им обл р-н пгт с пос д тыс млн млрд грн руб коп стр рис см
вул просп пл буд м смт р ст п проф акад др напр тис млрд
""".split())
_END = re.compile(r"""([.!?…]+)(["'»”’)\]]*)(\s+)(?=["'«“„(\[]?[\-–—]?\s?[A-ZА-ЯЁЇІЄҐ0-9])""")
_WORD_BEFORE = re.compile(r"([\w.\-]+)$")
_WORDS = re.compile(r"\w+")
# A short attribution left over after a quoted exclamation: '"Give me planes!" Zelensky said.'
_ATTRIBUTION = re.compile(
    r"^[\w\s.'’-]{0,60}\b(?:said|says|added|asked|wrote|told\s+\w+|сказав|сказала|заявив|"
    r"заявила|додав|додала|сказал|заявил|добавил|добавила)\.?$", re.IGNORECASE)


def split_sentences(text: str) -> list[str]:
    """Split text into sentences; paragraphs always break, abbreviations and initials never."""
    out: list[str] = []
    for para in text.split("\n"):
        para = para.strip()
        if not para:
            continue
        start = 0
        for m in _END.finditer(para):
            if m.group(1) == "." and not m.group(2) and _is_abbreviation(para, m.start()):
                continue
            sentence = para[start:m.end(2)].strip()
            if sentence:
                out.append(sentence)
            start = m.end()
        rest = para[start:].strip()
        if rest:
            out.append(rest)
    return _merge_attributions(out)


def _merge_attributions(sentences: list[str]) -> list[str]:
    merged: list[str] = []
    for s in sentences:
        if merged and _ATTRIBUTION.match(s) and merged[-1][-1:] in "\"'»”’":
            merged[-1] = f"{merged[-1]} {s}"
        else:
            merged.append(s)
    return merged


def _is_abbreviation(para: str, dot: int) -> bool:
    m = _WORD_BEFORE.search(para, 0, dot)
    if not m:
        return False
    word = m.group(1).lower().lstrip("-")
    if word in _ABBREVIATIONS:
        return True
    # A single letter before the dot is an initial ("V. Zelensky", "В. Кличко").
    return len(word) == 1 and word.isalpha()


def _tokens(text: str) -> set[str]:
    return {w for w in _WORDS.findall(text.casefold()) if len(w) > 2}


def repeats_title(sentence: str, title: str) -> bool:
    """True when a sentence says little more than the title (most of its words are there)."""
    return _repeats(_tokens(sentence), _tokens(title))


def _repeats(s: set[str], t: set[str]) -> bool:
    if not s or not t:
        return False
    return len(s & t) / len(s) >= 0.7 or (len(s & t) / len(t) >= 0.9 and len(s) <= len(t) + 3)


def _truncate(text: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut."""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(",;:-–— ") + "…"


# --- which sentences can be shown ---------------------------------------------------
#
# A summary is made of complete sentences that make sense where they are shown. A sentence
# is usable when it is complete: it ends with a stop (not a colon, not a feed's "..." cut),
# starts with a capital, a digit or a quote, has at least three words and balanced quotes,
# is not inside someone's quote, and is not a question, a table row, an editor's label or a
# bare dateline. A usable sentence stands alone unless it leans on the one before it
# ("So...", "But...", "This...", "Тому...", "Про це...", "Это...") or only says that
# something did not happen ("No casualties were reported."): such a sentence is shown only
# right after the sentence it follows.

_CLOSERS = "\"'»”’)]"
_CUT_MARKS = ("...", "…", "[...]", "[…]")
_FIRST = re.compile(r"""^["'«“„(\[]?[\-–—]?\s?[A-ZА-ЯЁЇІЄҐ0-9]""")
_LABELLED = re.compile(r"^(?:quote(?: from [^:]{1,60})?|цитата(?: [^:]{1,40})?|details|деталі"
                       r"|подробности|background|передісторія|предыстория|update|read also"
                       r"|previously|раніше|ранее|читайте[^:]{0,20}|photo|фото|watch|video)\s*:",
                       re.IGNORECASE)
# A row of a figures table: "tanks — 12,640 (+3)", "443 (0) fixed-wing aircraft",
# "approximately 1,540,700 (+1,760) military personnel".
_TABLE_DELTA = re.compile(r"\(\s*[+−]\s?\d")
_TABLE_ROW = re.compile(
    r"(?:about |approximately |близько |около |понад |более )?\d[\d\s.,]*\s*\(\d"
    r"|[^\W\d][\w\s'’/()-]{1,60}?\s[—–:]\s*(?:about |approximately |близько |около |понад "
    r"|более |over )?\d[\d\s.,]*(?:\(|[.;]?$)", re.IGNORECASE)
# Words that make a sentence lean on the one before it.
_LEANING = re.compile(
    r"""^["'«“„]?(?:
        (?:so|but|and|or|yet|then|thus|hence|however|therefore|moreover|furthermore|also
          |besides|still|instead|nevertheless|nonetheless|otherwise|that|those
          |(?:this|these)(?!\ (?:week|year|month|morning|evening|afternoon|weekend|summer
            |winter|spring|autumn|fall|season)\b)
          |it|its|they|them|their|he|she|his|her|him|such|here|the\ latter|the\ former
          |the\ same|in\ addition|in\ turn|as\ a\ result|because\ of\ this|at\ the\ same\ time)\b
      | (?:тому|але|однак|проте|та|і|й|а|або|це|цей|ця|ці|цим|цих|той|ті
          |(?:цього|цієї)(?!\ (?:тижня|року|місяця|ранку|вечора|ночі|літа|зими|осені|весни)\b)
          |він|вона|воно|вони|його|її|їх|їм|йому|там|тоді|також|так|отже|зокрема|втім
          |натомість|відтак|водночас|при\ цьому|крім\ того|окрім\ того|про\ це|таким\ чином
          |через\ це|у\ зв'язку\ з\ цим|у\ зв’язку\ з\ цим)\b
      | (?:поэтому|но|однако|и|а|или|это|этот|эта|эти|этих|тот|те|он|она
          |(?:этого|этим|этой)(?!\ (?:года|месяца|недели|утром|вечером|ночью|летом|зимой
            |осенью|весной)\b)
          |оно|они|его|ее|её|их|им|ему|там|тогда|также|так|итак|зато|впрочем|в\ частности
          |кроме\ того|при\ этом|об\ этом|о\ том|таким\ образом|в\ связи\ с\ этим|из-за\ этого)\b
    )""", re.IGNORECASE | re.VERBOSE)
# A sentence that only says that something did not happen.
_NON_EVENT = re.compile(
    r"""^["'«“„]?(?:
        (?:no|nobody|none|neither)\b(?!\ (?:later|longer|sooner|more\ than|fewer|less)\b)
      | there\ (?:were|was|have\ been|has\ been|are|is)\ no\b
      | (?:ніхто|ніде|жодн\w*|немає|нема|никто|нигде|ни\ один|ни\ одна|нет)\b
      | (?:\w+\ ){0,2}(?:загиблих|постраждалих|поранених|жертв|погибших|пострадавших
          |раненых)(?:\ (?:і|та|и)\ \w+)?\ (?:немає|нема|не\ було|не\ виявлено
          |нет|не\ было|не\ зафиксировано)\b
      | (?:обійшлося|обошлось)\ без\b
    )""", re.IGNORECASE | re.VERBOSE)
# A sentence that turns to another subject ("In Chornomorsk, ...", "Meanwhile, ...").
_TURN = re.compile(
    r"""^(?:(?i:in|at|near|у|в|на|під|под|біля|возле|около)\s+[A-ZА-ЯЁЇІЄҐ]
      | (?i:meanwhile|separately|elsewhere|earlier|previously|тим\ часом|між\ тим|раніше
         |нагадаємо|между\ тем|ранее|напомним)\b)""", re.VERBOSE)


# A paragraph that ends without punctuation is a complete sentence in many feeds' style
# ("Скорость ветра достигала 200 км/ч, погибли восемь человек") unless it is short (a
# heading) or stops on a word that needs more (a cut-off fragment).
_OPEN_END = frozenset("""
the a an of to in on at by for with from and or but as that which who than its their his her
і й та в у на з із до від для про що як або але и с из от что или но а по за при під под над без
""".split())


class _Sentence:
    """A sentence of the text; what the summary rules need to know is worked out on demand."""

    __slots__ = ("_leaning", "_tokens", "_usable", "first_in_para", "in_quote", "text")

    def __init__(self, text: str, para_end: bool = True, in_quote: bool = False,
                 alone_in_para: bool = True, first_in_para: bool = True) -> None:
        core = text.rstrip(_CLOSERS)
        if core.endswith(_CUT_MARKS):
            mark = next(m for m in _CUT_MARKS if core.endswith(m))
            head = core[:-len(mark)].rstrip()
            if head.rstrip(_CLOSERS).endswith((".", "!", "?")):
                text = head  # a feed's "..." after a complete sentence is not part of it
        elif para_end and (core[-1:].isalnum() or core.endswith("%")):
            words = text.split()
            if (len(words) >= (6 if alone_in_para else 3)
                    and words[-1].strip(_CLOSERS).lower() not in _OPEN_END):
                text += "."
        self.text = text
        self.in_quote = in_quote  # inside someone's quote: their words without saying whose
        self.first_in_para = first_in_para
        self._usable: bool | None = None
        self._leaning: bool | None = None
        self._tokens: set[str] | None = None

    @property
    def usable(self) -> bool:
        if self._usable is None:
            self._usable = not self.in_quote and _usable(self.text)
        return self._usable

    @property
    def leaning(self) -> bool:
        """Leans on the sentence before it ("But...", "Тому...", "Это...")."""
        if self._leaning is None:
            self._leaning = bool(_LEANING.match(self.text))
        return self._leaning

    @property
    def non_event(self) -> bool:
        """Only says that something did not happen ("No casualties were reported.")."""
        return bool(_NON_EVENT.match(self.text))

    @property
    def tokens(self) -> set[str]:
        if self._tokens is None:
            self._tokens = _tokens(self.text)
        return self._tokens


def _usable(s: str) -> bool:
    core = s.rstrip(_CLOSERS)
    if not core.endswith((".", "!")) or core.endswith(_CUT_MARKS) or not _FIRST.match(s):
        return False
    if len(s.split()) < 3 or (":" in s and _LABELLED.match(s)):
        return False
    head = s[:70]
    if ("(" in s or "—" in head or "–" in head or ":" in head) and _TABLE_ROW.match(s):
        return False
    if ("(+" in s or "(−" in s or "( +" in s) and _TABLE_DELTA.search(s):
        return False
    return _quotes_balanced(s)


def _quote_marks(s: str) -> tuple[int, int]:
    """Double quotes ("" “” „“, which pair among themselves) and «» opened minus closed."""
    return (s.count('"') + s.count("“") + s.count("”") + s.count("„"),
            s.count("«") - s.count("»"))


def _quotes_balanced(s: str) -> bool:
    doubles, guillemets = _quote_marks(s)
    return doubles % 2 == 0 and guillemets == 0


_QUOTE_CHARS = frozenset('"“”„«»')


def _sentences(text: str) -> list[_Sentence]:
    out: list[_Sentence] = []
    for para in text.split("\n"):
        para = para.strip()
        if para[:1].isupper():
            para = strip_dateline(para)  # texts stored before the cleaner cut datelines
        parts = split_sentences(para)
        last = len(parts) - 1
        quoted = not _QUOTE_CHARS.isdisjoint(para)
        doubles = guillemets = 0  # quotes open before the sentence
        for i, sentence in enumerate(parts):
            in_quote = quoted and (doubles % 2 == 1 or guillemets > 0)
            out.append(_Sentence(sentence, i == last, in_quote, last == 0, i == 0))
            if quoted:
                d, g = _quote_marks(sentence)
                doubles, guillemets = doubles + d, guillemets + g
    return out


# --- choosing -----------------------------------------------------------------------


def _pick(sentences: list[_Sentence], title: set[str], matches: Callable[[str], bool] | None,
          max_sentences: int, max_chars: int) -> list[str]:
    """The first sentence about the subject that makes sense alone and fits, the one after
    it when it carries on the same subject, then more sentences about the subject.

    Without a subject (`matches` None, the lead) the text's first sentence may lean on the
    title shown above it, and a sentence saying that nothing happened is news.
    """
    chosen: list[int] = []
    length = 0

    def fits(i: int) -> bool:
        s = sentences[i]
        return (length + len(s.text) + (1 if chosen else 0) <= max_chars
                and not _repeats(s.tokens, title)
                and not any(_repeats(s.tokens, sentences[j].tokens) for j in chosen))

    def take(i: int) -> None:
        nonlocal length
        length += len(sentences[i].text) + (1 if chosen else 0)
        chosen.append(i)

    for i, s in enumerate(sentences):
        if len(chosen) >= max_sentences:
            break
        if (chosen and i <= chosen[-1]) or not s.usable or _after_gap(sentences, i):
            continue
        if matches is None:
            if i > 0 and s.leaning:
                continue
        elif s.leaning or s.non_event:
            continue
        if not fits(i) or (matches is not None and not matches(s.text)):
            continue
        take(i)
        nxt = i + 1
        if (len(chosen) < max_sentences and nxt < len(sentences) and sentences[nxt].usable
                and not _TURN.match(sentences[nxt].text) and fits(nxt)):
            take(nxt)
    chosen.sort()
    return [sentences[i].text for i in chosen]


def _after_gap(sentences: list[_Sentence], i: int) -> bool:
    """Follows, in its paragraph, a sentence that cannot be shown (a question, a piece of a
    quote): it may answer or carry it on ("Officials in both cities declined to comment.")."""
    if sentences[i].first_in_para:
        return False
    before = sentences[i - 1]
    return not before.usable and len(before.text.split()) >= 3


def summarize(title: str, text: str, *, max_sentences: int = 2, max_chars: int = 300) -> str:
    """The lead: the first complete sentences that do not repeat the title, within max_chars.

    A text without one complete sentence (only a table, or cut off) has no summary: its
    title says it.
    """
    title_words = _tokens(title)
    # Paragraph by paragraph, stopping once enough is found: long articles cost no more.
    seen: list[_Sentence] = []
    picked: list[str] = []
    for para in text.split("\n"):
        seen.extend(_sentences(para))
        picked = _pick(seen, title_words, None, max_sentences, max_chars)
        if len(picked) >= max_sentences:
            break
    if not picked:
        picked = _pick(seen, title_words, None, 1, 10**9)
        if picked:  # the only complete sentence is too long: cut it between words
            return _truncate(picked[0], max_chars)
    return " ".join(picked)


def summarize_focused(title: str, text: str, matches: Callable[[str], bool], *,
                      max_sentences: int = 2, max_chars: int = 300) -> str:
    """The most informative complete sentences about what `matches`; else the lead.

    The first sentence about it that makes sense alone (never a table row, a dateline, a
    label, a fragment, a question or a "no casualties" non-event), the sentence after it when
    it carries on, then further sentences about it.
    """
    picked = _pick(_sentences(text), _tokens(title), matches, max_sentences, max_chars)
    if not picked:
        return summarize(title, text, max_sentences=max_sentences, max_chars=max_chars)
    return " ".join(picked)
