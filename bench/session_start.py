"""Session start: from `gradcalc` on a terminal to its first prompt, with prompt_toolkit and with the
standard library's readline (prompt_toolkit blocked), paired round by round; and the first result.

    python bench/session_start.py [--runs 21]

Each run starts gradcalc on a pseudo-terminal, waits for the prompt, types `x = 2; sin(x)*x` and
waits for its output, then quits. The two readers alternate (the order rotating each round), and
each ratio is the median of the per-round ratios. Measures what the `gradcalc[session]` extra costs.
"""

import argparse
import os
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLOCK = "import sys; sys.modules['prompt_toolkit'] = None; from gradcalc.cli import main; sys.exit(main())"
READERS = {"prompt_toolkit": [sys.executable, "-m", "gradcalc"], "readline": [sys.executable, "-c", BLOCK]}


def one_run(command: list, state: str) -> tuple[float, float]:
    """(seconds to the first prompt, seconds to the first result after typing the line)."""
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1", "XDG_STATE_HOME": state}
    leader, follower = pty.openpty()
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=follower, stdout=follower, stderr=follower, env=env, cwd=ROOT,
                               start_new_session=True)
    os.close(follower)
    seen = b""

    def wait_for(text: bytes) -> None:
        nonlocal seen
        while text not in seen:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                process.kill()
                raise SystemExit(f"{command}: no {text!r} within 60 s")
            seen += os.read(leader, 65536)

    wait_for(b">")
    prompt = time.perf_counter() - start
    typed = time.perf_counter()
    os.write(leader, b"x = 2; sin(x)*x\r")
    wait_for(b"output =")
    result = time.perf_counter() - typed
    os.write(leader, b":quit\r")
    process.wait(timeout=60)
    os.close(leader)
    return prompt, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    times = {name: [] for name in READERS}
    with tempfile.TemporaryDirectory() as state:
        os.chmod(state, 0o700)
        for name, command in READERS.items():  # warm the file cache and the bytecode
            one_run(command, state)
        names = list(READERS)
        for round_number in range(runs):
            order = names[round_number % 2:] + names[: round_number % 2]
            for name in order:
                times[name].append(one_run(READERS[name], state))
    print(f"session start on a pseudo-terminal, {runs} paired runs (medians)")
    print(f"{'reader':<16} {'to the prompt':>14} {'first result':>13}")
    for name, pairs in times.items():
        print(f"{name:<16} {statistics.median(p for p, _ in pairs) * 1000:>11.0f} ms "
              f"{statistics.median(r for _, r in pairs) * 1000:>10.0f} ms")
    ratios = [a[0] / b[0] for a, b in zip(times["prompt_toolkit"], times["readline"])]
    extra = [(a[0] - b[0]) * 1000 for a, b in zip(times["prompt_toolkit"], times["readline"])]
    print(f"prompt_toolkit / readline, to the prompt: {statistics.median(ratios):.2f}x "
          f"(+{statistics.median(extra):.0f} ms, median of the per-round differences)")


if __name__ == "__main__":
    main()
