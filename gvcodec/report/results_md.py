"""docs/results.md is shared by every benchmark: each owns one section between markers
`<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->`, rewritten in place on each run."""

from __future__ import annotations

from pathlib import Path


def update_section(path: str | Path, name: str, title: str, body: str) -> Path:
    """Replace (or append) the section `name` of the markdown file `path`.

    Args:
        path: the results file (created with a `# Results` title if absent).
        name: section id used in the markers.
        title: the section's `##` heading.
        body: markdown below the heading.

    Returns:
        The path written.
    """
    path = Path(path)
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = path.read_text() if path.exists() else "# Results\n"
    block = f"{start}\n## {title}\n\n{body.rstrip()}\n{end}"
    if start in text and end in text:
        a, b = text.index(start), text.index(end) + len(end)
        text = text[:a] + block + text[b:]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
