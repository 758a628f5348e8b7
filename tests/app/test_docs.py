"""The docs say what the code does: the presets table in docs/cli.md is the one the registry prints."""

from pathlib import Path

from nnscratch import presets

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_presets_table_in_the_cli_docs_is_generated_from_the_registry():
    text = (DOCS / "cli.md").read_text()
    start = text.index("<!-- presets table: the output of `python -m nnscratch.presets --markdown` -->")
    end = text.index("<!-- end of presets table -->")
    table = text[start:end].split("-->", 1)[1].strip()
    assert table == presets.markdown_table().strip(), "run `python -m nnscratch.presets --markdown` into docs/cli.md"
