"""The HTML report: self-contained, escaped, claims and published numbers shown."""
from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from trainlab.report.html import render_page, side_by_side, table, write_experiment_report  # noqa: E402


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.imgs: list[str] = []
        self.scripts = 0
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.imgs.append(attrs["src"])
        if tag == "script":
            self.scripts += 1
        if tag in ("link", "a") and attrs.get("href"):
            self.links.append(attrs["href"])


def _png(path):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [1, 0])
    fig.savefig(path)
    plt.close(fig)


def _record(tmp_path):
    (tmp_path / "figures").mkdir()
    _png(tmp_path / "figures" / "a.png")
    _png(tmp_path / "figures" / "b.png")
    return {
        "experiment": "demo", "profile": "smoke",
        "claims": [
            {"id": "c1", "text": "variance <shrinks>", "holds": True, "evidence": "ratio 0.1"},
            {"id": "c2", "text": "gap", "holds": False, "evidence": "none"},
            {"id": "c3", "text": "long run", "holds": None, "evidence": "needs 100 epochs"},
        ],
        "tables": {"layers": [{"init": "standard", "layer": 1, "var": 0.5},
                              {"init": "standard", "layer": 2, "var": 0.25}]},
        "paper": {"layers": [{"init": "standard", "layer": 1, "var": 0.45}], "jacobian": 0.8, "note": "<b>x</b>"},
        "figures": {"first <fig>": "figures/a.png", "second": "figures/b.png"},
        "budget": {"steps": 10}, "notes": ["a note & more"], "config": {"width": 10},
        "seconds": 1.5, "versions": {"torch": "x"},
    }


def test_experiment_report_is_self_contained_and_escaped(tmp_path):
    record = _record(tmp_path)
    path = write_experiment_report(record, tmp_path, title="T <script>alert(1)</script>", source="Paper & Co")
    text = path.read_text()
    parser = _Collect()
    parser.feed(text)
    assert parser.scripts == 0  # the title's <script> was escaped, not executed
    assert "&lt;script&gt;" in text and "variance &lt;shrinks&gt;" in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert len(parser.imgs) == 2
    for src in parser.imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [h for h in parser.links if h.startswith("http")]
    assert not re.search(r"src=['\"]https?:", text)
    for word in ("holds", "does not hold", "not testable at this budget"):
        assert word in text


def test_missing_figure_is_reported_not_broken(tmp_path):
    record = _record(tmp_path)
    record["figures"]["gone"] = "figures/none.png"
    text = write_experiment_report(record, tmp_path, title="t", source="s").read_text()
    assert "figure missing" in text
    parser = _Collect()
    parser.feed(text)
    assert len(parser.imgs) == 2


def test_side_by_side_joins_on_key_columns():
    ours = [{"init": "a", "layer": 1, "var": 0.5}, {"init": "a", "layer": 2, "var": 0.25}]
    paper = [{"init": "a", "layer": 2, "var": 0.3}]
    text = side_by_side(ours, paper)
    rows = re.findall(r"<tr>(.*?)</tr>", text)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r) for r in rows]
    assert ["a", "2", "0.25", "0.3", "-0.05"] in cells  # ours, the paper's, and how far ours is from it
    assert ["a", "1", "0.5", "—", "—"] in cells


def test_table_and_page_escape_values():
    page = render_page("x", [("h<1>", table([{"k<": "v>"}]))])
    assert "h&lt;1&gt;" in page and "k&lt;" in page and "v&gt;" in page


def _embedded(text: str) -> list[bytes]:
    parser = _Collect()
    parser.feed(text)
    return [base64.b64decode(src.split(",", 1)[1]) for src in parser.imgs]


def test_figures_outside_the_folder_are_never_embedded(tmp_path):
    """Before, an absolute path in results.json copied any readable file (here a secret) into report.html."""
    folder = tmp_path / "repro"
    folder.mkdir()
    record = _record(folder)
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"TOP-SECRET-CONTENTS")
    (folder / "figures" / "link.png").symlink_to(secret)
    (folder / "figures" / "inside-link.png").symlink_to(folder / "figures" / "a.png")
    record["figures"].update({"absolute": str(secret), "dotdot": "../secret.txt",
                              "dotdot inside": "figures/../../secret.txt", "symlink out": "figures/link.png",
                              "etc": "/etc/hostname", "not a path": 5,
                              "symlink in": "figures/inside-link.png", "dot inside": "./figures/../figures/b.png"})
    text = write_experiment_report(record, folder, title="t", source="s").read_text()
    images = _embedded(text)
    assert len(images) == 4 and all(image.startswith(b"\x89PNG") for image in images)
    assert base64.b64encode(b"TOP-SECRET-CONTENTS").decode() not in text
    assert text.count("lies outside this report's folder") == 5
    assert "/etc/hostname" in text and "figure missing: 5 is not a file path" in text


def test_figures_that_are_not_a_table_are_a_note(tmp_path):
    record = _record(tmp_path)
    record["figures"] = ["/etc/hostname"]
    text = write_experiment_report(record, tmp_path, title="t", source="s").read_text()
    assert not _embedded(text) and "none shown" in text


def test_trainlab_report_does_not_disclose_a_file_named_in_results_json(tmp_path, capsys):
    import json
    from pathlib import Path

    from trainlab.cli import main

    secret = Path("/etc/hostname")
    if not secret.is_file() or not secret.read_bytes().strip():
        secret = tmp_path / "hostname"
        secret.write_bytes(b"a-host-name\n")
    folder = tmp_path / "repro"
    folder.mkdir()
    record = _record(folder)
    record["figures"] = {"host": str(secret)}
    (folder / "results.json").write_text(json.dumps({**record, "title": "t", "source": "s"}))
    assert main(["report", str(folder)]) == 0
    capsys.readouterr()
    text = (folder / "report.html").read_text()
    assert not _embedded(text) and base64.b64encode(secret.read_bytes()).decode() not in text
    assert "lies outside this report's folder" in text
