"""Reading a student's Markdown: parts by their ids, math with its lines, chains."""

from __future__ import annotations

from derive.student import normalise, read_solution

IDS = ["1.1.1", "1.1.2", "3.1(a)", "3.1(b)", "2"]


def test_part_labels_are_read_in_the_usual_ways() -> None:
    assert normalise("Problem 3.1 (b):") == "3.1(b)" and normalise("**1.1.2**") == "1.1.2"
    text = "\n".join(["# My answers", "## 1.1.1", "$a = b$", "Problem 2", "$c = d$", "### 3.1", "(a)", "$e = f$",
                      "**(b)**", "$g = h$", "## 9.9", "$x$"])
    sol = read_solution(text, IDS)
    assert [(p.id, p.line) for p in sol.parts] == [("1.1.1", 2), ("2", 4), ("3.1(a)", 7), ("3.1(b)", 9)]
    assert sol.unknown == [(1, "# My answers"), (11, "## 9.9")]


def test_math_pieces_keep_their_lines_and_continuations() -> None:
    text = "\n".join([
        "## 1.1.1",
        "Inline $x = 1$ and display",
        "$$",
        "\\begin{aligned}",
        "a &= b \\\\",
        "  &\\le c",
        "\\end{aligned}",
        "$$",
        "\\[ d = e \\Rightarrow f = g, \\quad h < i \\]",
    ])
    pieces = read_solution(text, IDS).parts[0].pieces
    assert [(p.tex, p.line, p.continues) for p in pieces] == [
        ("x = 1", 2, False), ("a  = b", 5, False), ("\\le c", 6, True), ("d = e", 9, False),
        ("f = g", 9, False), ("h < i", 9, False)]
