"""``trainlab reproduce``: --list names the reproductions, an unknown name is a clear error."""
from __future__ import annotations

from trainlab.cli import main


def test_reproduce_cli_list_and_bad_name(capsys):
    assert main(["reproduce", "--list"]) == 0
    assert "cs231n-activations" in capsys.readouterr().out
    assert main(["reproduce", "nope"]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err

