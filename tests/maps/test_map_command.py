"""/map through the real bot and the Bot API emulator: a PNG photo of the right size, the
chat's oblast outlined, the counts from the store."""

from __future__ import annotations

import io
from pathlib import Path

from e2e_harness import item, running
from PIL import Image

from bot.maps.render import WIDTH, compose_stories_map, map_height

KHARKIV = "UA63000000000041885"


async def test_map_command_sends_the_stories_map(tmp_path: Path) -> None:
    async with running(tmp_path) as bot:
        await bot.say(811, "/subscribe Ізюмський район")  # Kharkiv oblast: marked
        await bot.publish("alpha", item("m1", "Shelling damages homes in Balakliia",
                                        "Russian artillery shelled Balakliia overnight, "
                                        "damaging three homes, the regional governor said."))
        await bot.wait_alert(811, lambda m: "Balakliia" in m.plain)
        answer = await bot.say(811, "/map")
        assert answer.photo is not None, answer.plain
        img = Image.open(io.BytesIO(answer.photo))
        assert img.format == "PNG" and img.size == (WIDTH, map_height())
        assert "Kharkiv oblast 1" in answer.plain and "outlined" in answer.plain, answer.plain
        # Exactly the picture of one Kharkiv story with Kharkiv oblast marked.
        assert answer.photo == compose_stories_map({KHARKIV: 1}, {KHARKIV}, "en").png()
        assert bot.emu.stats.methods["sendPhoto"] == 1

        # A chat that follows nothing in Ukraine: nothing marked; Ukrainian caption.
        other = await bot.say(812, "/map", language_code="uk")
        assert other.photo == compose_stories_map({KHARKIV: 1}, (), "uk").png()
        assert "Харківська область 1" in other.plain, other.plain
