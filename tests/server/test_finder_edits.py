"""Distance-guided edits: the difference between a reached output and the target, carried
back into the arguments (edits.diff_edits), on hand-written functions."""

from tracecot.server.finder.edits import diff_edits
from tracecot.server.finder.mutate import parse_args


def leader(num, name):
    return "quiz leader = {}, count = {}".format(name, num)


def mirrored(s):
    return s[::-1].upper() + "!"


def _outputs(fn, cands):
    return {c: repr(fn(*parse_args(c)[0])) for c in cands}


def test_a_deletion_and_an_insertion_each_become_one_edit_of_the_right_argument():
    target = repr(leader(23, "Ann"))
    start = "2, 'Ann,'"
    cands = diff_edits(start, repr(leader(2, "Ann,")), target)
    assert "2, 'Ann'" in cands and "23, 'Ann,'" in cands
    # two rounds (best-first in the search) reach the preimage
    second = {c2 for c in cands for c2 in diff_edits(c, repr(leader(*parse_args(c)[0])), target)}
    assert "23, 'Ann'" in second


def test_the_difference_is_carried_through_a_reversal():
    target = repr(mirrored("hello world"))
    got = _outputs(mirrored, diff_edits("'helo world'", repr(mirrored("helo world")), target))
    assert target in got.values()


def test_every_edit_parses_and_equal_outputs_give_none():
    assert diff_edits("'abc'", "'x'", "'x'") == []
    for c in diff_edits("[1, 2], 'a'", "[1, 2, 'a']", "[1, 2, 3, 'a']"):
        assert parse_args(c) is not None


def test_a_length_difference_steps_the_int_arguments():
    def tail(text, n):
        return text[n:]
    target = repr(tail("abcdefgh", 5))
    got = _outputs(tail, diff_edits("'abcdefgh', 2", repr(tail("abcdefgh", 2)), target))
    assert got.get("'abcdefgh', 5") == target


def test_numbers_get_no_diff_edits():
    assert diff_edits("[-8, -2], -2", "-28", "-22") == []
    assert diff_edits("True, 1", "True", "False")      # bools are not numbers here
