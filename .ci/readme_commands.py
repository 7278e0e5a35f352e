"""Print the shell commands of the README's set-up section, one per line.

CI runs exactly these, so the README cannot promise what CI does not check.
"""

import re
import sys
from pathlib import Path

text = Path(sys.argv[1]).read_text(encoding="utf-8")
section = text.split("## Set-up", 1)[1].split("\n## ", 1)[0]
blocks = re.findall(r"```(?:sh|shell|bash)\n(.*?)```", section, flags=re.DOTALL)
commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
if len(commands) != 2:
    sys.exit(f"README set-up should hold exactly two commands, found {len(commands)}")
print("\n".join(commands))
