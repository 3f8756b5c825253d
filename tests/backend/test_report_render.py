"""The CSV rule of backend.reports.render (issue 20, item 2) on values the chain never gives: a
negative number stays a number, and text that merely looks like one is text; any other text is
written byte for byte as Python's csv module writes it."""

from __future__ import annotations

import csv
import io
import random

from backend.reports import render


def test_numbers_stay_numbers_and_text_is_neutralised():
    body = render.csv_bytes(("n", "t", "list", "none"), [{"n": -5, "t": "-5", "list": ["@a", "b"], "none": None}])
    assert body == b'n,t,list,none\n-5,"\'-5","\'@a;b",\n'


def test_a_carriage_return_is_quoted_where_csv_leaves_it_bare():
    body = render.csv_bytes(("a", "b"), [{"a": "x\ry", "b": 1}])
    assert body == b'a,b\n"x\ry",1\n'
    assert list(csv.reader(io.StringIO(body.decode(), newline=""))) == [["a", "b"], ["x\ry", "1"]]


def test_other_text_is_written_as_the_csv_module_writes_it():
    rng = random.Random(20)
    alphabet = "ab ,\"\n\t\\'x=+-@;é\u2028"
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        if text.startswith(render.FORMULA_STARTS):
            continue
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows([("a", "n"), (text, 7)])
        assert render.csv_bytes(("a", "n"), [{"a": text, "n": 7}]) == out.getvalue().encode(), text
