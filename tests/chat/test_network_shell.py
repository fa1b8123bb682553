"""`meetbot shell --sandbox`: the shell's script typed into the sandbox and answered by the real
runner and client, as on a Zulip server."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

SCRIPT = """\
add item Zulip CEP
/as wolfv@example.org
/like 1
vote 1
@**meetbot** unvote 1
/at 2024-11-06T17:01Z
next
note WV: we should try it
action WV check the mirrors
end
"""


def test_a_shell_script_goes_through_the_sandbox_and_the_runner() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zulip_bot.cli", "shell", "--sandbox",
         "--as", "dashagurova@example.org", "--now", "2024-11-05T10:00Z"],
        input=SCRIPT, capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, done.stderr
    assert "meetbot: Added item **1** to New Agenda Items: DG: Zulip CEP" in out
    assert "Wolf Vollprecht reacts 👍 to “Added item **1**" in out
    assert "meetbot: You already voted for item 1." in out  # the 👍 was the vote
    # a line may mention the bot, as in the plain shell: it is not mentioned twice
    assert "meetbot reacts ✅ to “@**meetbot** unvote 1”" in out
    assert "Conda Community Meeting has started." in out  # on schedule, at 17:00
    assert "meetbot: Now on item 1: DG: Zulip CEP" in out
    assert "meetbot reacts ✅ to “@**meetbot** note WV: we should try it”" in out
    summary = out[out.index("## Summary: Conda Community Meeting 2024-11-06") :]
    assert "A1: check the mirrors (from 2024-11-06)" in summary
