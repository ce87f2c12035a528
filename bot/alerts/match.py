"""The subscription index: which chats follow what a story is about, at a cost that follows
the number of matches, not the number of subscriptions.

Cities and topics are exact keys: (kind, slug) -> subscription ids. Phrases are found
through a token index: each phrase hangs off one "anchor" token key; a story's token keys
pick the candidate phrases, a set test drops those missing any word, and the survivors
are checked the way Classifier.mentions checks a phrase (its word stems, in a row, among
the story's word stems), on words tokenized once per story rather than once per phrase.

The keys come from the classifier's own normalization (bot.news.text): a phrase word
matches a story word when their light stems are equal, and a stem is a prefix of its
word (but for English -ies -> -y), so the key of a phrase word is the first KEY_LEN
letters of its stem and a story word offers every prefix of its first KEY_LEN letters.
Every word `mentions` could accept is therefore a candidate (Херсоні/Херсона -> херс,
sanctions -> sanc, миру -> мир, cities -> cit).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain import Story, Subscription, TagKind
from bot.news.text import stem, words

KEY_LEN = 4


def stem_key(s: str) -> str:
    """The key of a stem: a prefix of every word that has this stem."""
    # English "-ies" words stem to "-y" (cities -> city, flies -> fly): the y itself is not
    # in every such word.
    if s.endswith("y") and len(s) >= 3:
        return s[:min(KEY_LEN, len(s) - 1)]
    return s[:KEY_LEN]


def phrase_keys(phrase: str) -> tuple[str, ...]:
    """Distinct word keys of a phrase, the most selective (longest stem) first."""
    stems = sorted((stem(w) for w in words(phrase)), key=len, reverse=True)
    return tuple(dict.fromkeys(stem_key(s) for s in stems))


def text_keys(text: str) -> set[str]:
    """Every key a phrase word could have if the text mentions it."""
    return _keys_of(set(words(text)))


def _keys_of(distinct_words: Iterable[str]) -> set[str]:
    keys: set[str] = set()
    for word in distinct_words:
        head = word[:KEY_LEN]
        keys.update(head[:n] for n in range(1, len(head) + 1))
    return keys


class StoryWords:
    """A story's words, tokenized once: keys for the candidate test, stems for the check."""

    def __init__(self, text: str) -> None:
        self.words = words(text)
        self.keys = _keys_of(set(self.words))
        self._stems: list[str] | None = None
        self._at: dict[str, list[int]] = {}

    def mentions(self, stems: tuple[str, ...]) -> bool:
        """True when the phrase's stems occur in a row (as Classifier.mentions decides)."""
        if not stems:
            return False
        if self._stems is None:
            self._stems = [stem(w) for w in self.words]
            for i, s in enumerate(self._stems):
                self._at.setdefault(s, []).append(i)
        seq, k = self._stems, len(stems)
        return any(seq[i:i + k] == list(stems) for i in self._at.get(stems[0], ()))


class SubscriptionIndex:
    """In-memory inverted index of all subscriptions; add/remove keep it in step with the DB."""

    def __init__(self) -> None:
        self._subs: dict[int, Subscription] = {}
        self._by_tag: dict[tuple[TagKind, str], set[int]] = {}
        self._by_chat: dict[int, list[int]] = {}
        # phrase -> (its word keys, anchor first; its word stems in order)
        self._phrases: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        self._anchors: dict[str, set[str]] = {}  # anchor token key -> phrases
        self._strings: dict[str, str] = {}  # one object per distinct key/label string

    def __len__(self) -> int:
        return len(self._subs)

    def __contains__(self, subscription_id: object) -> bool:
        return subscription_id in self._subs

    @property
    def chat_count(self) -> int:
        """How many chats have at least one subscription in the index."""
        return len(self._by_chat)

    def _intern(self, s: str) -> str:
        return self._strings.setdefault(s, s)

    def add(self, sub: Subscription) -> None:
        """Index a subscription (replacing an older version with the same id)."""
        if sub.id in self._subs:
            self.remove(self._subs[sub.id])
        key, label = self._intern(sub.key), self._intern(sub.label)
        # The index keeps neither created_at nor duplicate strings: it holds every
        # subscription of every chat, so each object is kept as small as it can be.
        if sub.created_at is not None or key is not sub.key or label is not sub.label:
            sub = Subscription(id=sub.id, chat_id=sub.chat_id, kind=sub.kind, key=key,
                               label=label, mode=sub.mode)
        self._subs[sub.id] = sub
        self._by_tag.setdefault((sub.kind, key), set()).add(sub.id)
        self._by_chat.setdefault(sub.chat_id, []).append(sub.id)
        if sub.kind is TagKind.PHRASE and key not in self._phrases:
            keys = phrase_keys(key)
            self._phrases[key] = (keys, tuple(stem(w) for w in words(key)))
            self._anchors.setdefault(keys[0] if keys else "", set()).add(key)

    def add_many(self, subs: Iterable[Subscription]) -> None:
        """Index many subscriptions (the start-up load)."""
        for sub in subs:
            self.add(sub)

    def remove(self, sub: Subscription) -> bool:
        """Drop a subscription by id; False when it was not indexed."""
        old = self._subs.pop(sub.id, None)
        if old is None:
            return False
        tag = (old.kind, old.key)
        ids = self._by_tag[tag]
        ids.discard(old.id)
        if not ids:
            del self._by_tag[tag]
            if old.kind is TagKind.PHRASE:
                self._drop_phrase(old.key)
        chat_ids = self._by_chat[old.chat_id]
        chat_ids.remove(old.id)
        if not chat_ids:
            del self._by_chat[old.chat_id]
        return True

    def _drop_phrase(self, phrase: str) -> None:
        keys = self._phrases.pop(phrase, ((), ()))[0]
        anchor = keys[0] if keys else ""
        phrases = self._anchors.get(anchor)
        if phrases is not None:
            phrases.discard(phrase)
            if not phrases:
                del self._anchors[anchor]

    def remove_chat(self, chat_id: int) -> int:
        """Drop every subscription of a chat; returns how many."""
        ids = list(self._by_chat.get(chat_id, ()))
        for sid in ids:
            self.remove(self._subs[sid])
        return len(ids)

    def subscriptions_of(self, chat_id: int) -> list[Subscription]:
        """The indexed subscriptions of one chat."""
        return [self._subs[sid] for sid in self._by_chat.get(chat_id, ())]

    def followers(self, kind: TagKind, key: str) -> list[Subscription]:
        """The subscriptions to one (kind, key)."""
        return [self._subs[sid] for sid in self._by_tag.get((kind, key), ())]

    def matching_phrases(self, text: str | StoryWords) -> list[str]:
        """The followed phrases that `text` mentions."""
        if not self._anchors:
            return []
        story = text if isinstance(text, StoryWords) else StoryWords(text)
        keys, anchors = story.keys, self._anchors
        candidates = {p for k in keys if k in anchors for p in anchors[k]}
        found = []
        for phrase in sorted(candidates):
            word_keys, stems = self._phrases[phrase]
            if all(k in keys for k in word_keys) and story.mentions(stems):
                found.append(phrase)
        return found

    def match(self, story: Story) -> dict[int, list[Subscription]]:
        """chat id -> every subscription of that chat the story matches (city, topic, Ukrainian
        place of any level, phrase)."""
        out: dict[int, list[Subscription]] = {}
        tags = [(TagKind.CITY, c) for c in dict.fromkeys(story.cities)]
        tags += [(TagKind.TOPIC, t) for t in dict.fromkeys(story.topics)]
        # a story's places carry their ancestors: a follow of any level matches
        tags += [(TagKind.PLACE, p) for p in dict.fromkeys(story.places)]
        text = f"{story.title}\n{story.text or story.summary}"
        tags += [(TagKind.PHRASE, p) for p in self.matching_phrases(text)]
        subs = self._subs
        for tag in tags:
            for sid in self._by_tag.get(tag, ()):
                sub = subs[sid]
                bucket = out.get(sub.chat_id)
                if bucket is None:
                    out[sub.chat_id] = [sub]
                else:
                    bucket.append(sub)
        return out
